package dev.keyhold.bench.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Throughput of one mode relative to a baseline: {@code mode / baseline} ops/s, either at one
 * concurrency or at each mode's peak ({@code concurrency == 0}).
 *
 * @param target the optional goal for this ratio from the issue (e.g. 0.85), or null
 */
public record Ratio(String mode, String baseline, int concurrency, double value, Double target) {

  /** Whether a target exists and is met. Null when there is no target. */
  @com.fasterxml.jackson.annotation.JsonProperty("met")
  public Boolean met() {
    return target == null ? null : value >= target;
  }

  /** "peak" or "c=N". */
  public String where() {
    return concurrency == 0 ? "peak" : "c=" + concurrency;
  }

  /**
   * {@code mode} against {@code baseline}: the ratio of their peaks (carrying {@code target}), then
   * one ratio per concurrency both measured. Empty when the baseline has no throughput.
   */
  public static List<Ratio> between(ModeResult mode, ModeResult baseline, Double target) {
    List<Ratio> out = new ArrayList<>();
    if (baseline.peakOpsPerSecond() <= 0) {
      return out;
    }
    out.add(
        new Ratio(
            mode.mode(),
            baseline.mode(),
            0,
            round3(mode.peakOpsPerSecond() / baseline.peakOpsPerSecond()),
            target));
    for (StepResult st : mode.steps()) {
      baseline
          .step(st.concurrency())
          .filter(b -> b.opsPerSecond() > 0)
          .ifPresent(
              b ->
                  out.add(
                      new Ratio(
                          mode.mode(),
                          baseline.mode(),
                          st.concurrency(),
                          round3(st.opsPerSecond() / b.opsPerSecond()),
                          null)));
    }
    return out;
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
