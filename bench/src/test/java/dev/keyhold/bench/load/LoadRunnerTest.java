package dev.keyhold.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.bench.report.StepResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoadRunnerTest {
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private final LoadRunner runner =
      new LoadRunner(
          Duration.ofMillis(100), Duration.ofMillis(400), null, LoadRunner.Progress.NONE);

  @Test
  void runAsync_keepsAtMostConcurrencyInFlight_andCountsEqualHistogram() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    StepResult r =
        runner.runAsync(
            "fake",
            4,
            () -> {
              maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
              CompletableFuture<Void> f = new CompletableFuture<>();
              timer.schedule(
                  () -> {
                    inFlight.decrementAndGet();
                    f.complete(null);
                  },
                  1,
                  TimeUnit.MILLISECONDS);
              return f;
            });
    assertThat(maxInFlight.get()).isLessThanOrEqualTo(4);
    assertThat(r.concurrency()).isEqualTo(4);
    assertThat(r.ops()).isPositive().isEqualTo(r.latency().count());
    assertThat(r.errors()).isEmpty();
    assertThat(r.latency().p50())
        .isGreaterThanOrEqualTo(900); // ≥ the 1 ms timer, in µs, less rounding
    assertThat(r.histogram()).isNotBlank();
    assertThat(r.clientCpu()).isNotNull();
    assertThat(r.serviceCpu()).isNull();
  }

  @Test
  void untilJitQuiet_namesTheLabelWhoseLimitRanOutBeforeTwoQuietSeconds() throws Exception {
    // A 1 ms limit ends the settling after its first one-second window, before the two quiet
    // windows it needs: the label must be reported as measured with a busy JIT.
    LoadRunner shortWait =
        new LoadRunner(Duration.ZERO, Duration.ofMillis(100), null, LoadRunner.Progress.NONE)
            .untilJitQuiet(Duration.ofMillis(1));
    shortWait.runBlocking("hurried", 1, () -> Thread.sleep(1));
    assertThat(shortWait.jitNotQuiet()).containsExactly("hurried");
    assertThat(shortWait.jitSettleSeconds()).containsKey("hurried");

    // Every step settles, not only the first. With a 1.5 s limit a settle samples two 1 s
    // windows whatever the JIT does (the first can at most start the quiet count), so each step
    // of the label adds about 2 s.
    LoadRunner everyStep =
        new LoadRunner(Duration.ZERO, Duration.ofMillis(100), null, LoadRunner.Progress.NONE)
            .untilJitQuiet(Duration.ofMillis(1500));
    everyStep.runBlocking("swept", 1, () -> Thread.sleep(1));
    double afterOne = everyStep.jitSettleSeconds().get("swept");
    assertThat(afterOne).isGreaterThanOrEqualTo(1.9);
    everyStep.runBlocking("swept", 2, () -> Thread.sleep(1));
    assertThat(everyStep.jitSettleSeconds().get("swept")).isGreaterThanOrEqualTo(afterOne + 1.9);

    LoadRunner noWait =
        new LoadRunner(Duration.ZERO, Duration.ofMillis(100), null, LoadRunner.Progress.NONE);
    noWait.runBlocking("unchecked", 1, () -> Thread.sleep(1));
    assertThat(noWait.jitNotQuiet()).isEmpty();
  }

  /** Fixed CPU work: SHA-256 over 32 KiB, {@code rounds} times. */
  private static byte[] work(int rounds) throws Exception {
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    byte[] buf = new byte[32 * 1024];
    for (int i = 0; i < rounds; i++) {
      md.update(buf);
      buf[i % buf.length] = md.digest()[0];
    }
    return buf;
  }

  @Test
  void runBlocking_inProcessServer_chargesTheServerThreadsAndNotTheLoadThreads() throws Exception {
    // The "server" does W of CPU per request on its own thread; each load thread does 2W itself
    // first. The server's share must come out near W per operation, not 3W (the whole JVM).
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    java.util.concurrent.atomic.LongAdder serverNanos = new java.util.concurrent.atomic.LongAdder();
    java.util.concurrent.atomic.LongAdder served = new java.util.concurrent.atomic.LongAdder();
    java.util.concurrent.ExecutorService server =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-server"));
    try {
      StepResult r =
          runner.runBlocking(
              "cpu",
              2,
              () -> {
                work(20);
                server
                    .submit(
                        () -> {
                          long t0 = mx.getCurrentThreadCpuTime();
                          work(10);
                          serverNanos.add(mx.getCurrentThreadCpuTime() - t0);
                          served.increment();
                          return null;
                        })
                    .get();
              },
              LoadRunner.inProcessServer(null));
      double perRequest = serverNanos.sum() / 1e3 / served.sum();
      assertThat(r.serverCpu()).isNotNull();
      assertThat(r.jvmInternalCpu()).isNotNull();
      assertThat(r.serverCpu().microsPerOp())
          .isBetween(0.6 * perRequest, 1.6 * perRequest)
          .isLessThan(0.6 * r.clientCpu().microsPerOp());
    } finally {
      server.shutdownNow();
    }
  }

  @Test
  void runBlocking_withoutServerProbe_measuresNoServerCpu() throws Exception {
    StepResult r = runner.runBlocking("plain", 1, () -> Thread.sleep(1));
    assertThat(r.serverCpu()).isNull();
    assertThat(r.jvmInternalCpu()).isNull();
  }

  @Test
  void runAsync_failures_areCountedByKindAndNotAsOps() throws Exception {
    AtomicInteger n = new AtomicInteger();
    StepResult r =
        runner.runAsync(
            "fail",
            2,
            () ->
                n.incrementAndGet() % 2 == 0
                    ? CompletableFuture.failedFuture(new IllegalStateException("boom"))
                    : CompletableFuture.supplyAsync(
                        () -> null, CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS)));
    assertThat(r.errors()).containsKey("IllegalStateException");
    assertThat(r.ops()).isEqualTo(r.latency().count()).isPositive();
  }

  @Test
  void runBlocking_usesOneThreadPerConcurrency() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    StepResult r =
        runner.runBlocking(
            "blocking",
            3,
            () -> {
              maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
              Thread.sleep(1);
              inFlight.decrementAndGet();
            });
    assertThat(maxInFlight.get()).isEqualTo(3);
    assertThat(r.ops()).isPositive().isEqualTo(r.latency().count());
    assertThat(r.opsPerSecond())
        .isCloseTo(r.ops() / r.seconds(), org.assertj.core.data.Percentage.withPercentage(1));
  }

  @Test
  void runBlocking_stopsItselfAfterTheDuration() throws Exception {
    long start = System.nanoTime();
    runner.runBlocking("stop", 2, () -> Thread.sleep(5));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(
            Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("bench-stop-"))
                .filter(Thread::isAlive))
        .isEmpty();
  }

  @Test
  void background_isMachineBusyMinusOwnProcesses_inCores() {
    // 4 s of machine CPU over 2 s; the bench used 1.5 s, the service 2 s, an unknown one nothing.
    Double cores =
        LoadRunner.background(
            java.util.OptionalLong.of(10_000_000_000L),
            java.util.OptionalLong.of(14_000_000_000L),
            List.of(
                java.util.OptionalLong.of(0),
                java.util.OptionalLong.of(5_000_000_000L),
                java.util.OptionalLong.empty()),
            List.of(
                java.util.OptionalLong.of(1_500_000_000L),
                java.util.OptionalLong.of(7_000_000_000L),
                java.util.OptionalLong.empty()),
            2.0);
    assertThat(cores).isEqualTo(0.25);
    // Ticks of different sources never make the background negative.
    assertThat(
            LoadRunner.background(
                java.util.OptionalLong.of(0),
                java.util.OptionalLong.of(1),
                List.of(java.util.OptionalLong.of(0)),
                List.of(java.util.OptionalLong.of(5)),
                1.0))
        .isEqualTo(0.0);
    assertThat(
            LoadRunner.background(
                java.util.OptionalLong.empty(),
                java.util.OptionalLong.of(1),
                List.of(),
                List.of(),
                1.0))
        .isNull();
  }

  @Test
  void runBlocking_recordsBackgroundAndExcludesAnIdleOwnProcess() throws Exception {
    LoadRunner r =
        new LoadRunner(Duration.ofMillis(50), Duration.ofMillis(200), null, null)
            .excludingFromBackground(
                ProcessCpu.of(ProcessHandle.current().parent().orElseThrow().pid()));
    var step = r.runBlocking("x", 1, () -> Thread.sleep(1));
    assertThat(step.backgroundCores()).isNotNull().isGreaterThanOrEqualTo(0.0);
  }
}
