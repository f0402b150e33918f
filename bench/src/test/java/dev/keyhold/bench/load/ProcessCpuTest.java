package dev.keyhold.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcessCpuTest {
  @Test
  void parseStatCpuTicks_commandWithSpacesAndParens_sumsUtimeAndStime() {
    String stat =
        "1234 (java (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 30 0 100 0 0";
    assertThat(ProcessCpu.parseStatCpuTicks(stat)).isEqualTo(325);
  }

  @Test
  void self_readsCpuAndRss() {
    ProcessCpu self = ProcessCpu.self();
    assertThat(self.isSelf()).isTrue();
    assertThat(self.cpuNanos()).isPresent();
    assertThat(ProcessCpu.of(ProcessHandle.current().pid() + 0).rssBytes()).isPresent();
  }

  @Test
  void of_otherProcessViaProc_readsCpu() {
    // The parent (Maven/surefire) is another live process: its CPU comes from /proc.
    long parent = ProcessHandle.current().parent().orElseThrow().pid();
    assertThat(ProcessCpu.of(parent).cpuNanos()).isPresent();
  }

  @Test
  void tree_countsTheCpuOfDescendants() throws Exception {
    // A shell whose child spins: the shell itself uses next to no CPU, the tree a lot.
    Process p = new ProcessBuilder("sh", "-c", "sh -c 'while :; do :; done' & sleep 30").start();
    try {
      Thread.sleep(700);
      long tree = ProcessCpu.tree(p.pid()).cpuNanos().orElseThrow();
      long root = ProcessCpu.of(p.pid()).cpuNanos().orElseThrow();
      assertThat(tree).isGreaterThanOrEqualTo(200_000_000L + root);
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor();
    }
  }

  @Test
  void selfThreadsCpuNanos_countsOnlyTheNamedThreads() throws Exception {
    Thread spinner =
        new Thread(
            () -> {
              long end = System.nanoTime() + 300_000_000L;
              while (System.nanoTime() < end) {
                Thread.onSpinWait();
              }
            },
            "spin-only-me");
    long before = ProcessCpu.selfThreadsCpuNanos(c -> c.equals("spin-only-me")).orElseThrow();
    spinner.start();
    Thread.sleep(200);
    long during = ProcessCpu.selfThreadsCpuNanos(c -> c.equals("spin-only-me")).orElseThrow();
    spinner.join();
    assertThat(before).isZero();
    assertThat(during).isGreaterThan(50_000_000L);
    assertThat(ProcessCpu.selfThreadsCpuNanos(c -> false)).hasValue(0);
  }

  @Test
  void parseSchedstatNanos_readsTheFirstField() {
    assertThat(ProcessCpu.parseSchedstatNanos("123456789 2222 33\n")).isEqualTo(123_456_789L);
  }

  @Test
  void isJvmInternalThread_gcJitAndVmThreadsButNotApplicationThreads() {
    assertThat(ProcessCpu.isJvmInternalThread("GC Thread#1")).isTrue();
    assertThat(ProcessCpu.isJvmInternalThread("G1 Conc#0")).isTrue();
    assertThat(ProcessCpu.isJvmInternalThread("C2 CompilerThre")).isTrue();
    assertThat(ProcessCpu.isJvmInternalThread("VM Thread")).isTrue();
    assertThat(ProcessCpu.isJvmInternalThread("nioEventLoopGro")).isFalse();
    assertThat(ProcessCpu.isJvmInternalThread("bench-netty-key")).isFalse();
    assertThat(ProcessCpu.isJvmInternalThread("grpc-default-ex")).isFalse();
  }

  @Test
  void parseStatusKib_readsPeakAndCurrentRss() {
    String status = "Name:\tjava\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
    assertThat(ProcessCpu.parseStatusKib(status, "VmHWM:")).hasValue(200L * 1048576);
    assertThat(ProcessCpu.parseStatusKib(status, "VmRSS:")).hasValue(100L * 1048576);
    assertThat(ProcessCpu.parseStatusKib(status, "VmSwap:")).isEmpty();
  }

  @Test
  void peakRss_isAtLeastCurrentRss() {
    ProcessCpu self = ProcessCpu.of(ProcessHandle.current().pid());
    long rss = self.rssBytes().orElseThrow();
    assertThat(self.peakRssBytes().orElseThrow()).isGreaterThanOrEqualTo(rss);
  }

  @Test
  void parseProcStatBusyTicks_sumsBusyStatesButNotIdleIowaitOrGuest() {
    // user nice system idle iowait irq softirq steal guest guest_nice
    String stat = "cpu  100 2 30 9000 50 4 6 8 70 1\ncpu0 50 1 15 4500 25 2 3 4 35 0\n";
    assertThat(ProcessCpu.parseProcStatBusyTicks(stat)).isEqualTo(100 + 2 + 30 + 4 + 6 + 8);
  }

  @Test
  void clockTicks_comeFromGetconf() throws Exception {
    Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
    long expected =
        Long.parseLong(
            new String(
                    p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
                .trim());
    assertThat(ProcessCpu.clockTicksPerSecond()).isEqualTo(expected);
    assertThat(ProcessCpu.parseClockTicks("250\n")).isEqualTo(250);
    assertThat(ProcessCpu.parseClockTicks("undefined")).isEqualTo(100);
  }

  @Test
  void of_otherProcess_cpuAgreesWithTheProcessOwnAccount() throws Exception {
    // A shell burns CPU, prints its own user+system time (the `times` builtin, from times(2)),
    // then waits on stdin so /proc can still be read: both accounts must agree within a few ticks.
    Process p =
        new ProcessBuilder(
                "bash", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; times; read -r _")
            .redirectErrorStream(true)
            .start();
    try {
      var out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  p.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII));
      String own = out.readLine(); // "0m0.812s 0m0.004s": the shell's user and system time
      double ownSeconds = 0;
      for (String t : own.trim().split("\\s+")) {
        String[] ms = t.replace("s", "").split("m");
        ownSeconds += Long.parseLong(ms[0]) * 60 + Double.parseDouble(ms[1]);
      }
      long measured = ProcessCpu.of(p.pid()).cpuNanos().orElseThrow();
      double tick = 1.0 / ProcessCpu.clockTicksPerSecond();
      assertThat(ownSeconds).isPositive();
      assertThat(measured / 1e9).isBetween(ownSeconds - 3 * tick, ownSeconds + 3 * tick);
    } finally {
      p.getOutputStream().close();
      p.waitFor();
    }
  }

  @Test
  void waitedChildrenCpu_growsByAChildsCpuOnceItIsWaitedFor() throws Exception {
    long before = ProcessCpu.waitedChildrenCpuNanos().orElseThrow();
    Process p =
        new ProcessBuilder("bash", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
            .start();
    p.waitFor();
    assertThat(ProcessCpu.waitedChildrenCpuNanos().orElseThrow()).isGreaterThan(before);
    assertThat(ProcessCpu.machineBusyNanos()).isPresent();
  }

  @Test
  void isCompilerThread_onlyHotSpotJitThreads() {
    assertThat(ProcessCpu.isCompilerThread("C2 CompilerThre\n")).isTrue();
    assertThat(ProcessCpu.isCompilerThread("C1 CompilerThre")).isTrue();
    assertThat(ProcessCpu.isCompilerThread("keyhold-hsm-1")).isFalse();
    assertThat(ProcessCpu.isCompilerThread("GC Thread#0")).isFalse();
    assertThat(ProcessCpu.isCompilerThread("C2")).isFalse();
  }

  @Test
  void compilerCpu_ofThisJvm_isRead_andAnAbsentProcessHasNone() {
    // This JVM has JIT compiler threads; the test runner has made them compile already.
    long before = ProcessCpu.self().compilerCpuNanos().orElseThrow();
    assertThat(before).isNotNegative();
    assertThat(ProcessCpu.self().compilerCpuNanos().orElseThrow()).isGreaterThanOrEqualTo(before);
    assertThat(ProcessCpu.of(Long.MAX_VALUE).compilerCpuNanos()).isEmpty();
  }
}
