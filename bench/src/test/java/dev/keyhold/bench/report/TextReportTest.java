package dev.keyhold.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TextReportTest {
  @Test
  void render_listsEveryStepRatioAndNote() {
    String t = TextReport.render(ReportFixtures.report());
    assertThat(t).contains("mode", "ops/s", "p99.9 µs", "service CPU");
    assertThat(t.lines().filter(l -> l.startsWith("keyhold ") || l.startsWith("pkcs11-direct ")))
        .hasSize(4);
    assertThat(t)
        .contains("keyhold / pkcs11-direct at peak: 0.789  (target >= 0.85: MISSED)  [c=1 0.75]");
    assertThat(t).contains("addedP50MicrosAtConcurrency1: 120.5");
    assertThat(t).contains("note: service CPU measured from /proc");
    assertThat(t).contains("200 MiB");
  }

  @Test
  void table_alignsColumns() {
    String t = TextReport.table(List.of(List.of("a", "bb"), List.of("ccc", "1")));
    assertThat(t).isEqualTo("a    bb\n-------\nccc   1\n");
  }
}
