package dev.keyhold.bench.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Reads a process's CPU time and resident memory: this JVM through the OperatingSystemMXBean,
 * another process through {@code /proc/PID/stat} and {@code /proc/PID/status} (Linux). A probe that
 * cannot read returns empty rather than failing the run, because CPU numbers are an extra, not the
 * measurement.
 */
public final class ProcessCpu {
  /**
   * Linux reports utime/stime (and /proc/stat) in clock ticks of USER_HZ, read once from {@code
   * getconf CLK_TCK} rather than assumed to be 100.
   */
  private static final long CLK_TCK = readClockTicks();

  private static final long NANOS_PER_TICK = 1_000_000_000L / CLK_TCK;

  private final long pid;
  private final boolean withDescendants;

  private ProcessCpu(long pid, boolean withDescendants) {
    this.pid = pid;
    this.withDescendants = withDescendants;
  }

  /** This JVM. */
  public static ProcessCpu self() {
    return new ProcessCpu(ProcessHandle.current().pid(), false);
  }

  /** Another process, e.g. the Keyhold service started with {@code --service-pid}. */
  public static ProcessCpu of(long pid) {
    return new ProcessCpu(pid, false);
  }

  /**
   * A process and its live descendants together, e.g. nginx's master and its worker processes: CPU
   * is the sum over the tree at the moment of reading; memory and threads are the root's.
   */
  public static ProcessCpu tree(long pid) {
    return new ProcessCpu(pid, true);
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
      long ticks = statTicks(pid);
      if (withDescendants) {
        for (ProcessHandle child :
            (Iterable<ProcessHandle>)
                ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)::iterator) {
          try {
            ticks += statTicks(child.pid());
          } catch (IOException | RuntimeException gone) {
            // the child ended between the listing and the read
          }
        }
      }
      return OptionalLong.of(ticks * NANOS_PER_TICK);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  private static long statTicks(long pid) throws IOException {
    return parseStatCpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
  }

  /**
   * CPU time used so far by the live threads of this JVM whose name ({@code comm}) matches, from
   * {@code /proc/self/task/TID/schedstat} (nanoseconds, not clock ticks: a 5-second step over a
   * dozen threads would otherwise round by a tenth of a core-second); empty when unreadable.
   */
  public static OptionalLong selfThreadsCpuNanos(java.util.function.Predicate<String> comm) {
    long nanos = 0;
    try (var dirs = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : (Iterable<Path>) dirs::iterator) {
        try {
          if (comm.test(Files.readString(t.resolve("comm")).strip())) {
            nanos += parseSchedstatNanos(Files.readString(t.resolve("schedstat")));
          }
        } catch (IOException | RuntimeException gone) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(nanos);
  }

  /** The first field of {@code /proc/.../schedstat}: time spent on a CPU, in nanoseconds. */
  static long parseSchedstatNanos(String schedstat) {
    return Long.parseLong(schedstat.trim().split("\\s+")[0]);
  }

  /**
   * Whether a thread name ({@code comm}) is one of HotSpot's own: garbage collection, JIT
   * compilers, the VM thread and its service threads. In a JVM that runs both a load generator and
   * a server, their CPU serves both and belongs to neither.
   */
  public static boolean isJvmInternalThread(String comm) {
    String c = comm.strip();
    for (String prefix : JVM_THREAD_PREFIXES) {
      if (c.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static final List<String> JVM_THREAD_PREFIXES =
      List.of(
          "GC Thread",
          "G1 ",
          "VM Thread",
          "VM Periodic",
          "C1 CompilerThre",
          "C2 CompilerThre",
          "Sweeper thread",
          "Service Thread",
          "Monitor Deflati",
          "Signal Dispatch",
          "Reference Handl",
          "Finalizer",
          "Notification Th",
          "Attach Listener");

  /**
   * CPU time used so far by the JIT compiler threads of this JVM process (threads named {@code C1
   * CompilerThread*} and {@code C2 CompilerThread*}, read from {@code /proc/PID/task/TID/stat}), in
   * nanoseconds; empty when unreadable. While a fresh JVM still compiles, its CPU per operation is
   * not yet the steady-state figure.
   */
  public OptionalLong compilerCpuNanos() {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    long ticks = 0;
    try (var dirs = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) dirs::iterator) {
        try {
          if (isCompilerThread(Files.readString(t.resolve("comm")))) {
            ticks += parseStatCpuTicks(Files.readString(t.resolve("stat")));
          }
        } catch (IOException | RuntimeException gone) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(ticks * NANOS_PER_TICK);
  }

  /** Whether a thread name ({@code comm}, at most 15 characters) is a HotSpot JIT compiler's. */
  static boolean isCompilerThread(String comm) {
    String c = comm.strip();
    return c.startsWith("C1 CompilerThre") || c.startsWith("C2 CompilerThre");
  }

  /**
   * CPU time of this process's children that have been waited for (cutime + cstime of {@code
   * /proc/self/stat}), e.g. an {@code openssl speed} run, in nanoseconds.
   */
  public static OptionalLong waitedChildrenCpuNanos() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
      // fields 16 and 17 -> indexes 13 and 14 after the state field (3)
      return OptionalLong.of((Long.parseLong(f[13]) + Long.parseLong(f[14])) * NANOS_PER_TICK);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** Resident set size in bytes now, from VmRSS. */
  public OptionalLong rssBytes() {
    return statusField("VmRSS:");
  }

  /**
   * The peak resident set size of the process's life so far ("high water mark"), from VmHWM: a true
   * peak, unlike any number of VmRSS snapshots.
   */
  public OptionalLong peakRssBytes() {
    return statusField("VmHWM:");
  }

  /** The number of threads of the process now, from {@code Threads:} in /proc/PID/status. */
  public OptionalLong threadCount() {
    try {
      String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
      for (String line : status.split("\n")) {
        if (line.startsWith("Threads:")) {
          return OptionalLong.of(Long.parseLong(line.substring(8).trim()));
        }
      }
      return OptionalLong.empty();
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  private OptionalLong statusField(String field) {
    try {
      return parseStatusKib(
          Files.readString(Path.of("/proc", Long.toString(pid), "status")), field);
    } catch (IOException | RuntimeException e) {
      // the process is gone or /proc is absent: no number
      return OptionalLong.empty();
    }
  }

  /** A {@code kB} field of {@code /proc/PID/status} (e.g. {@code VmHWM:}), in bytes. */
  static OptionalLong parseStatusKib(String status, String field) {
    for (String line : status.split("\n")) {
      if (line.startsWith(field)) {
        return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
      }
    }
    return OptionalLong.empty();
  }

  /** USER_HZ, the unit of /proc CPU times. */
  public static long clockTicksPerSecond() {
    return CLK_TCK;
  }

  /**
   * CPU time used by the whole machine so far (all CPUs, every state but idle and iowait), from the
   * first line of {@code /proc/stat}, in nanoseconds; empty where there is no /proc. Minus the CPU
   * of the bench's own processes over the same window, it is the background load of other
   * processes.
   */
  public static OptionalLong machineBusyNanos() {
    try {
      return OptionalLong.of(
          parseProcStatBusyTicks(Files.readString(Path.of("/proc/stat"))) * NANOS_PER_TICK);
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Busy ticks of the {@code cpu} line of /proc/stat: user + nice + system + irq + softirq + steal
   * (guest time is already inside user and nice, so it is not added again).
   */
  static long parseProcStatBusyTicks(String procStat) {
    for (String line : procStat.split("\n")) {
      if (line.startsWith("cpu ")) {
        String[] f = line.trim().split("\\s+");
        long busy = 0;
        // f[1..]: user nice system idle iowait irq softirq steal guest guest_nice
        int[] busyFields = {1, 2, 3, 6, 7, 8};
        for (int i : busyFields) {
          if (i < f.length) {
            busy += Long.parseLong(f[i]);
          }
        }
        return busy;
      }
    }
    throw new IllegalArgumentException("no cpu line in /proc/stat");
  }

  static long readClockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return parseClockTicks(out);
      }
    } catch (IOException | RuntimeException e) {
      // no getconf: fall through
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 100;
  }

  /** {@code getconf CLK_TCK}'s output; anything unusable falls back to 100. */
  static long parseClockTicks(String out) {
    try {
      long v = Long.parseLong(out.trim());
      return v > 0 ? v : 100;
    } catch (NumberFormatException e) {
      return 100;
    }
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
