package dev.keyhold.service.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Counters and latency timers per operation and outcome, in a Prometheus registry: {@code
 * keyhold_operations_total{operation,outcome}} and {@code keyhold_operation_seconds{operation}}.
 * Meters are cached, so the hot path does no registry lookup.
 */
public final class OperationMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

  public void record(String operation, String outcome, long nanos) {
    counters
        .computeIfAbsent(
            operation + '|' + outcome,
            k ->
                Counter.builder("keyhold.operations")
                    .description("Keyhold API calls by operation and outcome")
                    .tag("operation", operation)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
    if (nanos >= 0) {
      timers
          .computeIfAbsent(
              operation,
              k ->
                  Timer.builder("keyhold.operation")
                      .description("Keyhold API call latency, from request to response")
                      .tag("operation", operation)
                      .register(registry))
          .record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** How many operations of this kind ended with this outcome ("ok", "invalid_argument", ...). */
  public long count(String operation, String outcome) {
    Counter c = counters.get(operation + '|' + outcome);
    return c == null ? 0 : (long) c.count();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }
}
