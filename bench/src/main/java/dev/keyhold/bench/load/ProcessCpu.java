package dev.keyhold.bench.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Reads a process's CPU time and resident memory: this JVM through the OperatingSystemMXBean,
 * another process through {@code /proc/PID/stat} and {@code /proc/PID/status} (Linux). A probe that
 * cannot read returns empty rather than failing the run, because CPU numbers are an extra, not the
 * measurement.
 */
public final class ProcessCpu {
  /** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
  private static final long NANOS_PER_TICK = 10_000_000L;

  private final long pid;

  private ProcessCpu(long pid) {
    this.pid = pid;
  }

  /** This JVM. */
  public static ProcessCpu self() {
    return new ProcessCpu(ProcessHandle.current().pid());
  }

  /** Another process, e.g. the Keyhold service started with {@code --service-pid}. */
  public static ProcessCpu of(long pid) {
    return new ProcessCpu(pid);
  }

  public long pid() {
    return pid;
  }

  public boolean isSelf() {
    return pid == ProcessHandle.current().pid();
  }

  /** CPU time (user + system) used so far, in nanoseconds. */
  public OptionalLong cpuNanos() {
    if (isSelf()
        && ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os) {
      long t = os.getProcessCpuTime();
      return t < 0 ? OptionalLong.empty() : OptionalLong.of(t);
    }
    try {
      return OptionalLong.of(
          parseStatCpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")))
              * NANOS_PER_TICK);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** Resident set size in bytes, from VmRSS. */
  public OptionalLong rssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process is gone or /proc is absent: no number
    }
    return OptionalLong.empty();
  }

  /**
   * utime + stime (fields 14 and 15) of a {@code /proc/PID/stat} line. The command name in field 2
   * may contain spaces and parentheses, so fields are counted after the last ')'.
   */
  static long parseStatCpuTicks(String stat) {
    String rest = stat.substring(stat.lastIndexOf(')') + 2);
    String[] f = rest.trim().split("\\s+");
    // rest starts at field 3 (state): utime is field 14 -> index 11, stime field 15 -> index 12.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
