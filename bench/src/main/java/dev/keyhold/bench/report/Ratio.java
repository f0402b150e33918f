package dev.keyhold.bench.report;

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
}
