package dev.keyhold.bench.timing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Against values printed by scipy 1.17.1 ({@code scipy.stats.mannwhitneyu}). */
class TimingStatisticsTest {
  // The example of scipy's mannwhitneyu documentation.
  static final double[] MALES = {19, 22, 16, 29, 24};
  static final double[] FEMALES = {20, 11, 17, 12};

  @Test
  void mannWhitney_scipyDocExample_noContinuity() {
    var r = TimingStatistics.mannWhitney(MALES, FEMALES, false);
    assertThat(r.u1()).isEqualTo(17.0);
    assertThat(r.pTwoSided()).isCloseTo(0.0864107329737, within(1e-6));
  }

  @Test
  void mannWhitney_scipyDocExample_withContinuity() {
    var r = TimingStatistics.mannWhitney(MALES, FEMALES, true);
    assertThat(r.pTwoSided()).isCloseTo(0.11134688653314041, within(1e-6));
  }

  @Test
  void mannWhitney_ties_tieCorrected() {
    double[] a = {1, 2, 2, 3, 3, 3, 4, 10};
    double[] b = {2, 3, 5, 5, 6, 7, 7, 8, 9};
    var c = TimingStatistics.mannWhitney(a, b, true);
    assertThat(c.u1()).isEqualTo(16.5);
    assertThat(c.pTwoSided()).isCloseTo(0.06482426708639255, within(1e-6));
    var n = TimingStatistics.mannWhitney(a, b, false);
    assertThat(n.pTwoSided()).isCloseTo(0.05808453717331975, within(1e-6));
  }

  @Test
  void mannWhitney_identicalConstantSamples_pIsOne() {
    var r = TimingStatistics.mannWhitney(new double[] {5, 5, 5}, new double[] {5, 5}, true);
    assertThat(r.pTwoSided()).isEqualTo(1.0);
  }

  @Test
  void bootstrap_constantSamples_exactInterval() {
    double[] a = new double[50];
    double[] b = new double[60];
    java.util.Arrays.fill(a, 5);
    java.util.Arrays.fill(b, 8);
    var d = TimingStatistics.bootstrapMedianDifference(a, b, 500, 0.95, 1);
    assertThat(d.medianDifference()).isEqualTo(3.0);
    assertThat(d.low()).isEqualTo(3.0);
    assertThat(d.high()).isEqualTo(3.0);
  }

  @Test
  void bootstrap_shiftedSamples_intervalContainsShiftAndIsReproducible() {
    double[] a = new double[201];
    double[] b = new double[201];
    for (int i = 0; i < a.length; i++) {
      a[i] = i;
      b[i] = i + 10;
    }
    var d = TimingStatistics.bootstrapMedianDifference(a, b, 2000, 0.95, 42);
    assertThat(d.medianDifference()).isEqualTo(10.0);
    assertThat(d.low()).isLessThan(10.0);
    assertThat(d.high()).isGreaterThan(10.0);
    assertThat(TimingStatistics.bootstrapMedianDifference(a, b, 2000, 0.95, 42)).isEqualTo(d);
  }

  @Test
  void quantile_linearLikeNumpy() {
    assertThat(TimingStatistics.quantile(new double[] {1, 2, 3, 4}, 0.25)).isEqualTo(1.75);
  }
}
