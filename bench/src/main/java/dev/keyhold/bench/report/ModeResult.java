package dev.keyhold.bench.report;

import java.util.List;
import java.util.Optional;

/**
 * All steps of one mode, e.g. {@code keyhold}, {@code pkcs11-direct}, {@code jce}, {@code openssl}
 * (ops) or {@code jsse-pkcs12}, {@code jsse-keyhold} (handshakes).
 *
 * @param mode short name used in tables, charts and ratios
 * @param description what exactly was measured, in one line
 * @param steps one per concurrency, in sweep order
 */
public record ModeResult(String mode, String description, List<StepResult> steps) {

  public ModeResult {
    steps = List.copyOf(steps);
  }

  /** The step at this concurrency, if measured. */
  public Optional<StepResult> step(int concurrency) {
    return steps.stream().filter(s -> s.concurrency() == concurrency).findFirst();
  }

  /** The highest ops/s over the sweep: the mode's throughput at saturation. */
  @com.fasterxml.jackson.annotation.JsonProperty("peakOpsPerSecond")
  public double peakOpsPerSecond() {
    return steps.stream().mapToDouble(StepResult::opsPerSecond).max().orElse(0);
  }
}
