package dev.keyhold.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class PngCheckTest {
  @Test
  void measure_blankPage_isNotRendered() {
    BufferedImage img = new BufferedImage(200, 200, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 200, 200);
    assertThat(PngCheck.measure(img).looksRendered()).isFalse();
  }

  @Test
  void measure_antialiasedChartLines_isRendered() {
    BufferedImage img = new BufferedImage(200, 200, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 200, 200);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    Color[] series = {new Color(0x1a73e8), new Color(0xe8710a), new Color(0x188038)};
    for (int i = 0; i < 30; i++) {
      g.setColor(series[i % 3]);
      g.drawLine(0, i * 6, 200, 200 - i * 5);
    }
    PngCheck.Stats s = PngCheck.measure(img);
    assertThat(s.inkFraction()).isGreaterThan(0.01);
    assertThat(s.looksRendered()).as(s.toString()).isTrue();
  }
}
