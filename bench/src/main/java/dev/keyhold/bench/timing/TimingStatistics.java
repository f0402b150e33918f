package dev.keyhold.bench.timing;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Two-sample statistics for comparing latency distributions (valid against invalid ciphertexts):
 * the Mann-Whitney U test (normal approximation with tie and continuity correction, as {@code
 * scipy.stats.mannwhitneyu(method="asymptotic")}) and a percentile bootstrap confidence interval of
 * the difference of medians. Pure functions; the caller supplies the samples.
 */
public final class TimingStatistics {
  private TimingStatistics() {}

  /**
   * A Mann-Whitney U result.
   *
   * @param u1 U of the first sample (number of pairs where it is larger, ties counting half)
   * @param z the standardized statistic (continuity-corrected when asked)
   * @param pTwoSided the two-sided p-value
   */
  public record MannWhitney(double u1, double z, double pTwoSided) {}

  /**
   * A bootstrap interval of {@code median(b) - median(a)}.
   *
   * @param medianDifference the observed difference
   * @param low the lower bound
   * @param high the upper bound
   * @param confidence e.g. 0.95
   * @param resamples how many bootstrap resamples
   */
  public record MedianDifference(
      double medianDifference, double low, double high, double confidence, int resamples) {}

  /** Mann-Whitney U of {@code a} against {@code b}, two-sided. */
  public static MannWhitney mannWhitney(double[] a, double[] b, boolean continuity) {
    int n1 = a.length;
    int n2 = b.length;
    if (n1 == 0 || n2 == 0) {
      throw new IllegalArgumentException("both samples need at least one value");
    }
    int n = n1 + n2;
    double[] all = new double[n];
    int[] from = new int[n];
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      all[i] = i < n1 ? a[i] : b[i - n1];
      from[i] = i < n1 ? 0 : 1;
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Double.compare(all[x], all[y]));
    double rankSumA = 0;
    double tieTerm = 0;
    for (int i = 0; i < n; ) {
      int j = i;
      while (j + 1 < n && all[order[j + 1]] == all[order[i]]) {
        j++;
      }
      double rank = (i + j) / 2.0 + 1; // average of ranks i+1 .. j+1
      for (int m = i; m <= j; m++) {
        if (from[order[m]] == 0) {
          rankSumA += rank;
        }
      }
      double t = j - i + 1;
      tieTerm += t * t * t - t;
      i = j + 1;
    }
    double u1 = rankSumA - n1 * (n1 + 1) / 2.0;
    double mu = n1 * (double) n2 / 2.0;
    double variance = n1 * (double) n2 / 12.0 * ((n + 1) - tieTerm / (n * (double) (n - 1)));
    if (variance <= 0) {
      return new MannWhitney(u1, 0, 1);
    }
    double u = Math.max(u1, n1 * (double) n2 - u1);
    double z = (u - mu - (continuity ? 0.5 : 0)) / Math.sqrt(variance);
    double p = Math.min(1, 2 * upperTail(z));
    return new MannWhitney(u1, z, p);
  }

  /** Percentile bootstrap interval of {@code median(b) - median(a)}, reproducible from seed. */
  public static MedianDifference bootstrapMedianDifference(
      double[] a, double[] b, int resamples, double confidence, long seed) {
    if (a.length == 0 || b.length == 0 || resamples < 1) {
      throw new IllegalArgumentException("need two non-empty samples and at least one resample");
    }
    SplittableRandom random = new SplittableRandom(seed);
    double[] diffs = new double[resamples];
    double[] ra = new double[a.length];
    double[] rb = new double[b.length];
    for (int r = 0; r < resamples; r++) {
      for (int i = 0; i < ra.length; i++) {
        ra[i] = a[random.nextInt(a.length)];
      }
      for (int i = 0; i < rb.length; i++) {
        rb[i] = b[random.nextInt(b.length)];
      }
      diffs[r] = median(rb) - median(ra);
    }
    Arrays.sort(diffs);
    double alpha = (1 - confidence) / 2;
    return new MedianDifference(
        median(b.clone()) - median(a.clone()),
        quantile(diffs, alpha),
        quantile(diffs, 1 - alpha),
        confidence,
        resamples);
  }

  /** The median; sorts {@code v} in place. */
  static double median(double[] v) {
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** Linear-interpolated quantile of sorted values (numpy's default). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  /** P(Z > z) for a standard normal Z, from {@link #erfc}. */
  static double upperTail(double z) {
    return 0.5 * erfc(z / Math.sqrt(2));
  }

  /** Complementary error function, |error| below 1.2e-7 (Numerical Recipes' erfcc). */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r =
        t
            * Math.exp(
                -z * z
                    - 1.26551223
                    + t
                        * (1.00002368
                            + t
                                * (0.37409196
                                    + t
                                        * (0.09678418
                                            + t
                                                * (-0.18628806
                                                    + t
                                                        * (0.27886807
                                                            + t
                                                                * (-1.13520398
                                                                    + t
                                                                        * (1.48851587
                                                                            + t
                                                                                * (-0.82215223
                                                                                    + t
                                                                                        * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}
