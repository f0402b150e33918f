package dev.keyhold.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetSummaryTest {
  @TempDir Path dir;

  @Test
  void verdict_atLeastAndAtMost() {
    assertThat(TargetSummary.verdict(0.86, true, 0.85)).isEqualTo("met");
    assertThat(TargetSummary.verdict(0.84, true, 0.85)).isEqualTo("**missed**");
    assertThat(TargetSummary.verdict(61.0, false, 60)).isEqualTo("**missed**");
    assertThat(TargetSummary.verdict(40.0, false, 40)).isEqualTo("met");
    assertThat(TargetSummary.verdict(null, true, 1)).isEqualTo("not run");
  }

  @Test
  void render_readsEachTargetFromItsReport_andMarksBackgroundAndAbsentReports() throws Exception {
    Files.writeString(
        dir.resolve("ops-rsa2048-sign.json"),
        """
        {"started": "2026-12-02T01:00:00Z",
         "environment": {"cpus": 2, "cpuModel": "Test CPU"},
         "modes": [{"mode": "keyhold", "steps": [
            {"concurrency": 1, "opsPerSecond": 900.0, "serviceCpu": {"microsPerOp": 560.0}},
            {"concurrency": 32, "opsPerSecond": 3000.0, "serviceCpu": {"microsPerOp": 573.0}}]}],
         "ratios": [
            {"mode": "keyhold", "baseline": "pkcs11-direct", "concurrency": 0, "value": 0.88},
            {"mode": "keyhold", "baseline": "pkcs11-direct", "concurrency": 1, "value": 0.7}],
         "derived": {"addedP50MicrosAtConcurrency1": 90.0,
            "serviceOverheadCpuMicrosPerOpAtPeakLoad": 107.0,
            "serviceOverheadCpuMicrosPerOp": {"c=32": 107.0},
            "hsmOperationCpuMicrosPerOp": {"c=32": 466.0},
            "servicePeakRssMiB": 210.0,
            "saturationConcurrency": {"keyhold": 32},
            "backgroundMismatch": ["c=1 keyhold 0.0 vs pkcs11-direct 0.4 cores"]}}
        """);
    String md = new TargetSummary(dir).render("0.12");
    assertThat(md)
        .contains("load average at the start of the run 0.12")
        .contains(
            "| RSA-2048 sign, peak, / pkcs11-direct | `ops-rsa2048-sign` | 0.88 | ≥ 0.85 | met |"
                + " **differed** |")
        .contains(
            "| RSA-2048 sign, c=1, / pkcs11-direct | `ops-rsa2048-sign` | 0.70 | ≥ 0.80 |"
                + " **missed** |")
        .contains(
            "| RSA-2048 sign, added p50 at c=1 (µs) | `ops-rsa2048-sign` | 90.00 | ≤ 100 | met |")
        .contains(
            "service CPU − HSM op CPU (µs/op) | `ops-rsa2048-sign` | 107 | ≤ 60.00 | **missed**")
        .contains("| `ops-rsa2048-sign` | c=32 | 573 − 466 = 107 |")
        .contains("| `ops-rsa2048-sign` | keyhold | 3,000 | 32 | 32 | 573 |")
        .contains(
            "| P-256 sign (fault check on), peak, / pkcs11-direct | `ops-p256-sign` | - |"
                + " ≥ 0.50 | not run |");
  }

  @Test
  void render_marksAReportWhoseJitWasStillBusy() throws Exception {
    Files.writeString(
        dir.resolve("ops-rsa2048-decrypt.json"),
        """
        {"started": "2026-12-02T01:00:00Z",
         "environment": {"cpus": 2, "cpuModel": "Test CPU"},
         "settings": {"jitNotQuiet": ["keyhold"]},
         "modes": [],
         "ratios": [
            {"mode": "keyhold", "baseline": "pkcs11-direct", "concurrency": 0, "value": 0.91}],
         "derived": {"backgroundMismatch": []}}
        """);
    assertThat(new TargetSummary(dir).render("0.1"))
        .contains(
            "| RSA-2048 DecryptPremaster, peak, / pkcs11-direct | `ops-rsa2048-decrypt` | 0.91 |"
                + " ≥ 0.90 | met | **JIT busy** |");
  }

  @Test
  void render_theRpcFloorTable_fromTheGetKeyReport() throws Exception {
    Files.writeString(
        dir.resolve("ops-rsa2048-get-key.json"),
        """
        {"modes":[{"mode":"keyhold","steps":[
          {"concurrency":1,"opsPerSecond":2100.5,"latency":{"p50":401.2},
           "serviceCpu":{"cores":0.3,"microsPerOp":150.0},"clientCpu":{"cores":0.2,"microsPerOp":95.5}},
          {"concurrency":32,"opsPerSecond":9000,"latency":{"p50":3000},"serviceCpu":null}]}]}
        """);
    String md = new TargetSummary(dir).render("0.01");
    assertThat(md)
        .contains("The RPC alone (`ops-rsa2048-get-key`")
        .contains("| 1 | 2,101 | 401 | 150 | 95.50 |")
        .contains("| 32 | 9,000 | 3,000 | - | - |");
    assertThat(new TargetSummary(Files.createDirectories(dir.resolve("empty"))).render("0"))
        .doesNotContain("The RPC alone");
  }

  @Test
  void render_perServerCpuTable_andTheNginxTargets_fromTheHandshakeReports() throws Exception {
    Files.writeString(
        dir.resolve("handshakes-rsa2048-tls13.json"),
        """
        {"modes":[
          {"mode":"netty-keyhold","steps":[{"concurrency":16,"opsPerSecond":1100,
            "serverCpu":{"cores":1.1,"microsPerOp":1000.0},"jvmInternalCpu":{"microsPerOp":40.0}}]},
          {"mode":"nginx-libp11","steps":[{"concurrency":16,"opsPerSecond":900,
            "serverCpu":{"cores":1.8,"microsPerOp":2000.0},"jvmInternalCpu":{"microsPerOp":35.0}}]}],
         "derived":{"perServerCpuSecond:netty-keyhold/nginx-libp11":2.0,"backgroundMismatch":[]},
         "notes":[]}
        """);
    Files.writeString(
        dir.resolve("handshakes-rsa2048-tls12-rsakx.json"),
        """
        {"modes":[],"derived":{},
         "notes":["nginx-libp11 skipped: its first handshake failed (decrypt_error)"]}
        """);
    String md = new TargetSummary(dir).render("0.1");
    assertThat(md)
        .contains("#### Handshakes per server CPU-second (nginx + libp11 baseline)")
        .contains(
            "| `handshakes-rsa2048-tls13` | netty-keyhold | 16 | 1,100 | 1,000 | 1,000 | 40.00 |")
        // nginx runs outside the bench JVM: the JVM's GC/JIT is not its cost.
        .contains("| `handshakes-rsa2048-tls13` | nginx-libp11 | 16 | 900 | 2,000 | 500 | - |")
        .contains(
            "- `handshakes-rsa2048-tls12-rsakx`: nginx-libp11 skipped: its first handshake failed"
                + " (decrypt_error)")
        .contains(
            "| TLS 1.3 RSA-PSS, Netty + Keyhold / nginx + libp11, handshakes per server CPU-second"
                + " | `handshakes-rsa2048-tls13` | 2.00 | ≥ 1.00 | met | same |")
        .contains(
            "| TLS 1.2 ECDHE-RSA, Netty + Keyhold / nginx + libp11, handshakes per server"
                + " CPU-second | `handshakes-rsa2048-tls12-ecdhe` | - | ≥ 1.00 | not run |");
  }
}
