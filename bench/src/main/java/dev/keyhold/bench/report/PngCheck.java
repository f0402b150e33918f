package dev.keyhold.bench.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Checks that a screenshot of the HTML report shows something: enough non-background pixels and
 * enough distinct colours for text plus several coloured chart series. Used by {@code
 * bench/check-report.sh}; exit code 0 when the picture passes.
 */
public final class PngCheck {
  private PngCheck() {}

  /** The numbers the check is based on. */
  public record Stats(int width, int height, double inkFraction, int colours) {
    /**
     * A rendered report has text and charts: some ink, and many colours from anti-aliased lines.
     */
    public boolean looksRendered() {
      return inkFraction > 0.01 && colours > 50;
    }
  }

  public static Stats measure(BufferedImage img) {
    int bg = img.getRGB(0, 0);
    long ink = 0;
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        if (rgb != (bg & 0xffffff)) {
          ink++;
        }
        if (colours.size() < 100_000) {
          colours.add(rgb);
        }
      }
    }
    return new Stats(
        img.getWidth(),
        img.getHeight(),
        ink / (double) ((long) img.getWidth() * img.getHeight()),
        colours.size());
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: PngCheck FILE.png");
      System.exit(2);
    }
    BufferedImage img = ImageIO.read(Path.of(args[0]).toFile());
    if (img == null) {
      System.err.println(args[0] + " is not a readable image");
      System.exit(1);
    }
    Stats s = measure(img);
    System.out.printf(
        "%s: %dx%d, %.1f%% non-background pixels, %d colours -> %s%n",
        args[0],
        s.width(),
        s.height(),
        s.inkFraction() * 100,
        s.colours(),
        s.looksRendered() ? "rendered" : "BLANK");
    System.exit(s.looksRendered() ? 0 : 1);
  }
}
