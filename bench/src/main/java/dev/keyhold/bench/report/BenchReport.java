package dev.keyhold.bench.report;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one run measured, as written to the JSON file and rendered into the table and the HTML
 * report.
 *
 * @param kind "ops" or "handshakes"
 * @param title one line, e.g. "Sign rsa2048 rsa_pkcs1_sha256"
 * @param started ISO-8601 UTC
 * @param command the command line that produced it, so a reader can rerun it
 * @param settings the run's parameters (target, key, scheme, operation, sweep, durations, ...)
 * @param modes one per measured mode, Keyhold first
 * @param ratios throughput ratios of each mode to its baselines
 * @param derived other numbers computed from the modes, e.g. Keyhold's added p50 latency at
 *     concurrency 1
 * @param notes what was skipped and why, and caveats (e.g. service CPU unknown)
 */
public record BenchReport(
    String kind,
    String title,
    String started,
    String command,
    Environment environment,
    Map<String, Object> settings,
    List<ModeResult> modes,
    List<Ratio> ratios,
    Map<String, Object> derived,
    List<String> notes) {

  public BenchReport {
    // Insertion order is kept: the JSON and the table list settings in the order they were given.
    settings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings));
    modes = List.copyOf(modes);
    ratios = List.copyOf(ratios);
    derived = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(derived));
    notes = List.copyOf(notes);
  }

  public Optional<ModeResult> mode(String name) {
    return modes.stream().filter(m -> m.mode().equals(name)).findFirst();
  }
}
