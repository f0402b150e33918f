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
}
