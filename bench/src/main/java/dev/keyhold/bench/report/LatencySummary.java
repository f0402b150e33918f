package dev.keyhold.bench.report;

import org.HdrHistogram.Histogram;

/**
 * Latency percentiles of one measured step, in microseconds, taken from an HdrHistogram recorded in
 * nanoseconds. {@code count} is the histogram's total count, so a report can be checked against the
 * step's operation count.
 */
public record LatencySummary(
    long count, double mean, double p50, double p90, double p99, double p999, double max) {

  /** An empty summary, for modes that measure throughput only (e.g. openssl speed). */
  public static final LatencySummary NONE = new LatencySummary(0, 0, 0, 0, 0, 0, 0);

  /** Summarizes a histogram whose values are nanoseconds. */
  public static LatencySummary ofNanos(Histogram h) {
    if (h.getTotalCount() == 0) {
      return NONE;
    }
    return new LatencySummary(
        h.getTotalCount(),
        micros(h.getMean()),
        micros(h.getValueAtPercentile(50)),
        micros(h.getValueAtPercentile(90)),
        micros(h.getValueAtPercentile(99)),
        micros(h.getValueAtPercentile(99.9)),
        micros(h.getMaxValue()));
  }

  private static double micros(double nanos) {
    // One decimal is below HdrHistogram's 3-digit precision at these magnitudes anyway.
    return Math.round(nanos / 100.0) / 10.0;
  }
}
