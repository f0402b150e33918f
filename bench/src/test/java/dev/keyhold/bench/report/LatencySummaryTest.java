package dev.keyhold.bench.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatencySummaryTest {
  @Test
  void ofNanos_uniformOneToTenThousandMicros_givesExpectedPercentiles() {
    Histogram h = new Histogram(60_000_000_000L, 3);
    for (int us = 1; us <= 10_000; us++) {
      h.recordValue(us * 1000L);
    }
    LatencySummary s = LatencySummary.ofNanos(h);
    assertThat(s.count()).isEqualTo(10_000);
    assertThat(s.p50()).isCloseTo(5000, within(5.0));
    assertThat(s.p90()).isCloseTo(9000, within(9.0));
    assertThat(s.p99()).isCloseTo(9900, within(10.0));
    assertThat(s.p999()).isCloseTo(9990, within(10.0));
    assertThat(s.max()).isCloseTo(10_000, within(10.0));
    assertThat(s.mean()).isCloseTo(5000.5, within(5.0));
  }

  @Test
  void ofNanos_empty_isNone() {
    assertThat(LatencySummary.ofNanos(new Histogram(3))).isEqualTo(LatencySummary.NONE);
  }

  @Test
  void cpuUsage_of_computesCoresAndMicrosPerOp() {
    StepResult.CpuUsage c = StepResult.CpuUsage.of(3_000_000_000L, 2.0, 1000);
    assertThat(c.cores()).isEqualTo(1.5);
    assertThat(c.microsPerOp()).isEqualTo(3000.0);
  }
}
