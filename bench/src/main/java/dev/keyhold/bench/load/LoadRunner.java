package dev.keyhold.bench.load;

import dev.keyhold.bench.report.LatencySummary;
import dev.keyhold.bench.report.StepResult;
import dev.keyhold.bench.report.StepResult.CpuUsage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Runs one closed-loop load step: exactly {@code concurrency} operations in flight for a warm-up
 * and then a measured window, after which no new operation starts and the ones in flight are
 * drained before anything is read. Only operations that complete inside the measured window count,
 * and each one is counted in the same place as its latency is recorded, so the step's operation
 * count always equals its histogram's count.
 *
 * <p>Two drivers: {@link #runAsync} keeps {@code concurrency} asynchronous calls in flight from
 * gRPC's own threads (no thread per request); {@link #runBlocking} uses {@code concurrency} threads
 * for blocking APIs such as SunPKCS11, which is how a user of those APIs gets parallelism. The loop
 * is bounded by time and stops itself.
 */
public final class LoadRunner {
  /** An asynchronous operation; {@code start} must not block. */
  @FunctionalInterface
  public interface AsyncOperation {
    CompletableFuture<?> start();
  }

  /** A blocking operation, run on one of the step's threads. */
  @FunctionalInterface
  public interface BlockingOperation {
    void run() throws Exception;
  }

  /** Receives a progress snapshot about twice a second. */
  @FunctionalInterface
  public interface Progress {
    void update(
        String label,
        boolean warmingUp,
        double elapsedSeconds,
        double totalSeconds,
        long completed,
        long errors);

    Progress NONE = (l, w, e, t, c, x) -> {};
  }

  /** Latencies above a minute are clamped: such a call has failed by any useful measure. */
  static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

  private static final long DRAIN_SECONDS = 30;

  private final Duration warmup;
  private final Duration firstWarmup;
  private final java.util.Set<String> warmedUp = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Duration duration;
  private final ProcessCpu service;
  private final Progress progress;
  private List<ProcessCpu> idleOwn = List.of();
  private Duration jitQuietMax = Duration.ZERO;
  private final Map<String, Double> jitSettleSeconds =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final java.util.Set<String> jitNotQuiet =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** JIT compiler CPU per second of wall time below which a JVM counts as warmed up: 3 %. */
  static final double JIT_QUIET_CORES = 0.03;

  /**
   * @param service the Keyhold service process for CPU and RSS, or null; ignored when it is this
   *     process
   */
  public LoadRunner(Duration warmup, Duration duration, ProcessCpu service, Progress progress) {
    this(warmup, warmup, duration, service, progress);
  }

  /**
   * @param firstWarmup warm-up of the first step of each label: JIT compilation of a fresh JVM (the
   *     service's included) and connection set-up take far longer than a step's warm-up
   */
  public LoadRunner(
      Duration warmup,
      Duration firstWarmup,
      Duration duration,
      ProcessCpu service,
      Progress progress) {
    if (duration.isZero() || duration.isNegative() || warmup.isNegative()) {
      throw new IllegalArgumentException("duration must be positive and warm-up not negative");
    }
    this.warmup = warmup;
    this.firstWarmup = firstWarmup.compareTo(warmup) < 0 ? warmup : firstWarmup;
    this.duration = duration;
    this.service = service == null || service.isSelf() ? null : service;
    this.progress = progress == null ? Progress.NONE : progress;
  }

  /**
   * Processes of the bench's own (the service, idle during a baseline step; an external server such
   * as nginx, measured as the step's server) whose CPU is not counted as background load. Null
   * entries and this process are ignored.
   *
   * @return this runner
   */
  public LoadRunner excludingFromBackground(ProcessCpu... processes) {
    List<ProcessCpu> own = new ArrayList<>();
    for (ProcessCpu p : processes) {
      if (p != null && !p.isSelf()) {
        own.add(p);
      }
    }
    this.idleOwn = List.copyOf(own);
    return this;
  }

  /** The summed CPU of {@code processes}; empty when there are none or one cannot be read. */
  private static OptionalLong sum(List<ProcessCpu> processes) {
    if (processes.isEmpty()) {
      return OptionalLong.empty();
    }
    long total = 0;
    for (ProcessCpu p : processes) {
      OptionalLong v = p.cpuNanos();
      if (v.isEmpty()) {
        return OptionalLong.empty();
      }
      total += v.getAsLong();
    }
    return OptionalLong.of(total);
  }

  /**
   * After every warm-up, goes on warming up until the JIT compilers of this JVM and of the service
   * use less than {@value #JIT_QUIET_CORES} of a core for two seconds in a row, for at most {@code
   * max} more per step (zero: no such wait). A fresh service still compiles for half a minute and
   * more under load on 2 cores, and a step at a higher concurrency sets off new compilations (an
   * app server with the Keyhold client compiled at a fifth of a core for a minute after moving from
   * 1 to 16 connections); steps measured meanwhile charge the compiler's CPU to every operation.
   *
   * @return this runner
   */
  public LoadRunner untilJitQuiet(Duration max) {
    this.jitQuietMax = max == null || max.isNegative() ? Duration.ZERO : max;
    return this;
  }

  /**
   * For each label, how many seconds of warm-up its steps took in all, beyond their warm-ups, for
   * the JITs.
   */
  public Map<String, Double> jitSettleSeconds() {
    return Map.copyOf(jitSettleSeconds);
  }

  /**
   * The labels whose JIT compilers were still busy when {@code untilJitQuiet}'s limit ran out
   * before one of their steps: that step includes compilation, so its figures are pessimistic.
   */
  public java.util.SortedSet<String> jitNotQuiet() {
    return new java.util.TreeSet<>(jitNotQuiet);
  }

  /**
   * Puts the runners' JIT settling into a report: {@code jitSettleSeconds} and {@code jitNotQuiet}
   * in {@code settings}, and a note naming the modes still compiling when the limit ran out.
   */
  public static void recordJitSettling(
      Map<String, Object> settings, List<String> notes, LoadRunner... runners) {
    Map<String, Double> settled = new TreeMap<>();
    java.util.SortedSet<String> busy = new java.util.TreeSet<>();
    for (LoadRunner r : runners) {
      settled.putAll(r.jitSettleSeconds());
      busy.addAll(r.jitNotQuiet);
    }
    settings.put("jitSettleSeconds", settled);
    settings.put("jitNotQuiet", List.copyOf(busy));
    if (!busy.isEmpty()) {
      notes.add(
          "JIT compilers still busy after --jit-quiet-max for "
              + String.join(", ", busy)
              + ": a measured step includes compilation; re-run with a longer"
              + " --first-warmup or --jit-quiet-max before publishing");
    }
  }

  /** Keeps {@code concurrency} calls of {@code op} in flight, each completion starting the next. */
  public StepResult runAsync(String label, int concurrency, AsyncOperation op)
      throws InterruptedException {
    Step step = new Step();
    CountDownLatch chainsDone = new CountDownLatch(concurrency);
    for (int i = 0; i < concurrency; i++) {
      new Chain(step, op, chainsDone).next();
    }
    return measure(
        label, concurrency, step, null, () -> chainsDone.await(DRAIN_SECONDS, TimeUnit.SECONDS));
  }

  /** Runs {@code op} in a loop on each of {@code concurrency} threads. */
  public StepResult runBlocking(String label, int concurrency, BlockingOperation op)
      throws InterruptedException {
    return runBlocking(label, concurrency, op, null);
  }

  /** CPU time so far of what a step serves, in nanoseconds; empty when unknown. */
  @FunctionalInterface
  public interface CpuProbe {
    OptionalLong cpuNanos();
  }

  /**
   * Whether a thread name ({@code comm}) is one of the load threads {@link #runBlocking} starts.
   */
  public static boolean isLoadThread(String comm) {
    return comm.strip().startsWith(LOAD_THREAD_PREFIX);
  }

  private static final String LOAD_THREAD_PREFIX = "bench-";

  /**
   * The CPU of a server that runs in this JVM beside the load threads: the JVM's CPU minus that of
   * the load threads and of HotSpot's own threads (GC, JIT: shared, reported apart), plus {@code
   * offload}'s (the Keyhold service) when not null.
   */
  public static CpuProbe inProcessServer(ProcessCpu offload) {
    ProcessCpu self = ProcessCpu.self();
    return () -> {
      OptionalLong all = self.cpuNanos();
      OptionalLong load = ProcessCpu.selfThreadsCpuNanos(LoadRunner::isLoadThread);
      OptionalLong jvm = ProcessCpu.selfThreadsCpuNanos(ProcessCpu::isJvmInternalThread);
      OptionalLong extra = offload == null ? OptionalLong.of(0) : offload.cpuNanos();
      if (all.isEmpty() || load.isEmpty() || jvm.isEmpty() || extra.isEmpty()) {
        return OptionalLong.empty();
      }
      return OptionalLong.of(
          all.getAsLong() - load.getAsLong() - jvm.getAsLong() + extra.getAsLong());
    };
  }

  /**
   * As {@link #runBlocking(String, int, BlockingOperation)}, and measures {@code server}'s CPU (the
   * step's {@code serverCpu}) and this JVM's internal threads' ({@code jvmInternalCpu}) over the
   * window, when {@code server} is not null.
   */
  public StepResult runBlocking(
      String label, int concurrency, BlockingOperation op, CpuProbe server)
      throws InterruptedException {
    Step step = new Step();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      Thread t =
          new Thread(
              () -> {
                while (step.phase != Step.STOP) {
                  long start = System.nanoTime();
                  Throwable error = null;
                  try {
                    op.run();
                  } catch (Exception | Error e) {
                    error = e;
                  }
                  step.complete(start, error);
                }
              },
              LOAD_THREAD_PREFIX + label + "-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    return measure(
        label,
        concurrency,
        step,
        server,
        () -> {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
          for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
              return false;
            }
          }
          return true;
        });
  }

  @FunctionalInterface
  private interface Drain {
    boolean await() throws InterruptedException;
  }

  private StepResult measure(String label, int concurrency, Step step, CpuProbe server, Drain drain)
      throws InterruptedException {
    ProcessCpu self = ProcessCpu.self();
    boolean first = warmedUp.add(label);
    waitReporting(label, true, first ? firstWarmup : warmup, step);
    // Before every step, not only the first: a higher concurrency reaches code paths (contention,
    // more connections, the gRPC client's flow control) that the first step never compiled.
    if (!jitQuietMax.isZero()) {
      double waited = settleJit(label, step);
      jitSettleSeconds.merge(label, waited, (a, b) -> Math.round((a + b) * 10) / 10.0);
    }
    step.recorder.reset();
    OptionalLong clientCpu0 = self.cpuNanos();
    OptionalLong serviceCpu0 = service == null ? OptionalLong.empty() : service.cpuNanos();
    Long rssStart = service == null ? null : boxed(service.rssBytes());
    OptionalLong machine0 = ProcessCpu.machineBusyNanos();
    OptionalLong idle0 = sum(idleOwn);
    OptionalLong server0 = server == null ? OptionalLong.empty() : server.cpuNanos();
    OptionalLong jvm0 = server == null ? OptionalLong.empty() : jvmInternal();
    long t0 = System.nanoTime();
    step.phase = Step.MEASURE;
    waitReporting(label, false, duration, step);
    // Read before the load threads are told to stop: one that ends before the read would take its
    // CPU out of the live-thread sums and leave it in the server's remainder.
    OptionalLong server1 = server == null ? OptionalLong.empty() : server.cpuNanos();
    OptionalLong jvm1 = server == null ? OptionalLong.empty() : jvmInternal();
    step.phase = Step.STOP;
    long t1 = System.nanoTime();
    OptionalLong clientCpu1 = self.cpuNanos();
    OptionalLong serviceCpu1 = service == null ? OptionalLong.empty() : service.cpuNanos();
    OptionalLong machine1 = ProcessCpu.machineBusyNanos();
    OptionalLong idle1 = sum(idleOwn);
    Long rss = service == null ? null : boxed(service.rssBytes());
    Long peakRss = service == null ? null : boxed(service.peakRssBytes());
    if (!drain.await()) {
      // Not fatal: those operations did not count, but the reader should know.
      step.errors.computeIfAbsent("UNFINISHED_AT_STOP", k -> new LongAdder()).increment();
    }
    Histogram h = step.recorder.getIntervalHistogram();
    long ops = step.measuredOk.sum();
    double seconds = (t1 - t0) / 1e9;
    Map<String, Long> errors = new TreeMap<>();
    step.errors.forEach((k, v) -> errors.put(k, v.sum()));
    return new StepResult(
        concurrency,
        Math.round(seconds * 1000) / 1000.0,
        ops,
        Math.round(ops / seconds * 10) / 10.0,
        LatencySummary.ofNanos(h),
        errors,
        cpu(clientCpu0, clientCpu1, seconds, ops),
        cpu(serviceCpu0, serviceCpu1, seconds, ops),
        rssStart,
        rss,
        encode(h),
        peakRss,
        background(
            machine0,
            machine1,
            List.of(clientCpu0, serviceCpu0, idle0),
            List.of(clientCpu1, serviceCpu1, idle1),
            seconds),
        cpu(server0, server1, seconds, ops),
        cpu(jvm0, jvm1, seconds, ops));
  }

  private static OptionalLong jvmInternal() {
    return ProcessCpu.selfThreadsCpuNanos(ProcessCpu::isJvmInternalThread);
  }

  /**
   * Cores used by other processes over the window: the machine's busy CPU minus that of the
   * processes the bench accounts for (absent ones count as zero), never below zero (the sources
   * tick at different moments). Null when the machine's CPU is unknown.
   */
  public static Double background(
      OptionalLong machine0,
      OptionalLong machine1,
      List<OptionalLong> own0,
      List<OptionalLong> own1,
      double seconds) {
    if (machine0.isEmpty() || machine1.isEmpty() || seconds <= 0) {
      return null;
    }
    long other = machine1.getAsLong() - machine0.getAsLong();
    for (int i = 0; i < own0.size(); i++) {
      if (own0.get(i).isPresent() && own1.get(i).isPresent()) {
        other -= own1.get(i).getAsLong() - own0.get(i).getAsLong();
      }
    }
    return Math.round(Math.max(0, other) / 1e9 / seconds * 1000) / 1000.0;
  }

  /** Waits (reporting as warm-up) until the JITs are quiet; returns the seconds it waited. */
  private double settleJit(String label, Step step) throws InterruptedException {
    ProcessCpu self = ProcessCpu.self();
    long start = System.nanoTime();
    long end = start + jitQuietMax.toNanos();
    long window = TimeUnit.SECONDS.toNanos(1);
    int quiet = 0;
    OptionalLong[] before = {self.compilerCpuNanos(), compiler(service)};
    while (System.nanoTime() < end && quiet < 2) {
      waitReporting(label, true, Duration.ofNanos(window), step);
      OptionalLong[] now = {self.compilerCpuNanos(), compiler(service)};
      boolean allQuiet = true;
      for (int i = 0; i < now.length; i++) {
        if (before[i].isPresent() && now[i].isPresent()) {
          double cores = (now[i].getAsLong() - before[i].getAsLong()) / (double) window;
          allQuiet &= cores < JIT_QUIET_CORES;
        }
      }
      quiet = allQuiet ? quiet + 1 : 0;
      before = now;
    }
    if (quiet < 2) {
      jitNotQuiet.add(label);
    }
    return Math.round((System.nanoTime() - start) / 1e8) / 10.0;
  }

  private static OptionalLong compiler(ProcessCpu p) {
    return p == null ? OptionalLong.empty() : p.compilerCpuNanos();
  }

  private void waitReporting(String label, boolean warmingUp, Duration length, Step step)
      throws InterruptedException {
    long start = System.nanoTime();
    long end = start + length.toNanos();
    for (long now = start; now < end; now = System.nanoTime()) {
      TimeUnit.NANOSECONDS.sleep(Math.min(end - now, TimeUnit.MILLISECONDS.toNanos(500)));
      long errors = step.errors.values().stream().mapToLong(LongAdder::sum).sum();
      progress.update(
          label,
          warmingUp,
          (System.nanoTime() - start) / 1e9,
          length.toNanos() / 1e9,
          step.completed.sum(),
          errors);
    }
  }

  private static CpuUsage cpu(OptionalLong before, OptionalLong after, double seconds, long ops) {
    if (before.isEmpty() || after.isEmpty()) {
      return null;
    }
    return CpuUsage.of(after.getAsLong() - before.getAsLong(), seconds, ops);
  }

  private static Long boxed(OptionalLong v) {
    return v.isPresent() ? v.getAsLong() : null;
  }

  /** HdrHistogram's own compressed encoding, Base64: any HdrHistogram tool can decode it. */
  static String encode(Histogram h) {
    if (h.getTotalCount() == 0) {
      return null;
    }
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    byte[] bytes = new byte[n];
    buf.flip();
    buf.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** The shared state of one step. */
  static final class Step {
    static final int WARMUP = 0;
    static final int MEASURE = 1;
    static final int STOP = 2;

    volatile int phase = WARMUP;
    final Recorder recorder = new Recorder(HIGHEST_NANOS, 3);
    final LongAdder measuredOk = new LongAdder();
    final LongAdder completed = new LongAdder();
    final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();

    void complete(long startNanos, Throwable error) {
      long latency = System.nanoTime() - startNanos;
      completed.increment();
      if (phase != MEASURE) {
        return;
      }
      if (error == null) {
        recorder.recordValue(Math.min(Math.max(latency, 0), HIGHEST_NANOS));
        measuredOk.increment();
      } else {
        errors.computeIfAbsent(Outcome.of(error), k -> new LongAdder()).increment();
      }
    }
  }

  /**
   * One in-flight slot: starts an operation, and on its completion the next one. A future that is
   * already complete when returned is handled in the loop rather than by recursion, so a
   * fast-failing target cannot overflow the stack.
   */
  private static final class Chain {
    private final Step step;
    private final AsyncOperation op;
    private final CountDownLatch done;

    Chain(Step step, AsyncOperation op, CountDownLatch done) {
      this.step = step;
      this.op = op;
      this.done = done;
    }

    void next() {
      while (step.phase != Step.STOP) {
        long start = System.nanoTime();
        CompletableFuture<?> f;
        try {
          f = op.start();
        } catch (RuntimeException e) {
          step.complete(start, e);
          continue;
        }
        if (f.isDone()) {
          step.complete(start, failure(f));
          continue;
        }
        f.whenComplete(
            (r, e) -> {
              step.complete(start, e);
              next();
            });
        return;
      }
      done.countDown();
    }

    private static Throwable failure(CompletableFuture<?> f) {
      try {
        f.join();
        return null;
      } catch (RuntimeException e) {
        return e;
      }
    }
  }
}
