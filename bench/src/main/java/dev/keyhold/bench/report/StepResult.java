package dev.keyhold.bench.report;

import java.util.Map;

/**
 * One measured step of one mode: a fixed concurrency for a fixed time, after warm-up.
 *
 * @param concurrency operations in flight (async modes) or threads (blocking modes)
 * @param seconds the measured wall time
 * @param ops successful operations completed in the measured window
 * @param opsPerSecond {@code ops / seconds}
 * @param latency per-operation latency; {@code latency.count()} equals {@code ops}
 * @param errors failed operations in the measured window, by status (e.g. RESOURCE_EXHAUSTED)
 * @param clientCpu CPU used by the bench process, or null
 * @param serviceCpu CPU used by the service process, or null when it is unknown or the same process
 * @param serviceRssStartBytes the service's resident set size when the measured window began, or
 *     null
 * @param serviceRssBytes the service's resident set size at the end of the step, or null; with the
 *     start value it shows growth over a long step (e.g. a 5-minute soak at one concurrency)
 * @param histogram the latency histogram (ns), HdrHistogram compressed and Base64-encoded, for
 *     re-analysis; null when there is none
 * @param servicePeakRssBytes the service's peak resident set size so far (VmHWM) at the end of the
 *     step, or null
 * @param backgroundCores CPU used during the window by processes other than the bench and the
 *     service (machine busy time from /proc/stat minus theirs), in cores; null when unknown
 * @param serverCpu handshakes only: CPU of the TLS server under test, the whole server side: for a
 *     server in the bench JVM its threads (Netty event loops, JSSE workers, the Keyhold client's
 *     gRPC threads), that is the JVM's CPU minus the load threads' and minus {@code
 *     jvmInternalCpu}, plus the Keyhold service's when the key is offloaded; for nginx its master
 *     and worker processes. Null when not measured
 * @param jvmInternalCpu handshakes only: the bench JVM's garbage-collector, JIT and VM threads,
 *     shared by the load generator and an in-process server and counted in neither; null when not
 *     measured
 */
public record StepResult(
    int concurrency,
    double seconds,
    long ops,
    double opsPerSecond,
    LatencySummary latency,
    Map<String, Long> errors,
    CpuUsage clientCpu,
    CpuUsage serviceCpu,
    Long serviceRssStartBytes,
    Long serviceRssBytes,
    String histogram,
    Long servicePeakRssBytes,
    Double backgroundCores,
    CpuUsage serverCpu,
    CpuUsage jvmInternalCpu) {

  public StepResult {
    errors = errors == null ? Map.of() : Map.copyOf(errors);
  }

  /** Failed operations in the window, all statuses together. */
  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * CPU time one process spent in the measured window.
   *
   * @param cores CPU seconds per wall second (1.0 = one core busy)
   * @param microsPerOp CPU microseconds per successful operation
   */
  public record CpuUsage(double cores, double microsPerOp) {
    /** From CPU nanoseconds used during {@code seconds} of wall time for {@code ops} operations. */
    public static CpuUsage of(long cpuNanos, double seconds, long ops) {
      double cores = seconds <= 0 ? 0 : cpuNanos / 1e9 / seconds;
      double perOp = ops <= 0 ? 0 : cpuNanos / 1e3 / ops;
      return new CpuUsage(Math.round(cores * 1000) / 1000.0, Math.round(perOp * 10) / 10.0);
    }
  }
}
