package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.bench.load.LoadRunner;
import dev.keyhold.bench.ops.Baselines;
import dev.keyhold.bench.ops.OpsBench;
import dev.keyhold.bench.ops.Workload;
import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.bench.report.HtmlReport;
import dev.keyhold.bench.report.JsonReport;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code ops} briefly against a real service on SoftHSM and checks the report, never the
 * speed.
 */
class OpsIT {
  private static TestKeyholdService svc;

  @TempDir Path dir;

  @BeforeAll
  static void start() {
    svc = TestKeyholdService.start();
  }

  @AfterAll
  static void stop() {
    svc.close();
  }

  private static KeyholdClientConfig client() {
    return KeyholdClientConfig.builder()
        .target(svc.target())
        .trustedCa(svc.caCert())
        .clientCertificate(svc.clientCert("test-client"), svc.clientKey("test-client"))
        .deadline(Duration.ofSeconds(10))
        .build();
  }

  @Test
  void ops_signWithBaselines_writesCompleteConsistentJson() throws Exception {
    OpsBench.Settings settings =
        new OpsBench.Settings(
            client(),
            "rsa2048",
            Workload.Operation.SIGN,
            "rsa_pkcs1_sha256",
            List.of(1, 2),
            Duration.ofMillis(500),
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            EnumSet.of(OpsBench.Baseline.PKCS11_DIRECT, OpsBench.Baseline.JCE),
            name -> Baselines.pkcs11(svc.hsm().token().provider(), svc.hsm().hsmConfig(), name),
            null,
            "in-process test service",
            "OpsIT",
            0,
            Duration.ZERO);
    BenchReport report =
        new OpsBench(settings, LoadRunner.Progress.NONE, (m, s) -> {}, m -> {}).run();
    Path json = dir.resolve("ops.json");
    JsonReport.write(report, json);
    HtmlReport.write(report, dir.resolve("ops.html"));

    JsonNode j = new ObjectMapper().readTree(json.toFile());
    assertThat(j.at("/settings/key").asText()).isEqualTo("rsa2048");
    assertThat(j.at("/settings/scheme").asText()).isEqualTo("rsa_pkcs1_sha256");
    assertThat(j.at("/environment/cpus").asInt()).isPositive();
    assertThat(j.at("/environment/jdk").asText()).isNotBlank();
    assertThat(j.get("modes"))
        .extracting(m -> m.get("mode").asText())
        .containsExactly("keyhold", "pkcs11-direct", "jce");
    for (JsonNode mode : j.get("modes")) {
      assertThat(mode.get("steps"))
          .extracting(s -> s.get("concurrency").asInt())
          .containsExactly(1, 2);
      for (JsonNode step : mode.get("steps")) {
        String where = mode.get("mode").asText() + " c=" + step.get("concurrency").asInt();
        assertThat(step.get("ops").asLong())
            .as(where)
            .isPositive()
            .isEqualTo(step.at("/latency/count").asLong());
        assertThat(step.get("errors").size()).as(where + " errors " + step.get("errors")).isZero();
        assertThat(step.get("opsPerSecond").asDouble())
            .as(where)
            .isCloseTo(
                step.get("ops").asLong() / step.get("seconds").asDouble(),
                org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(step.at("/latency/p50").asDouble())
            .as(where)
            .isPositive()
            .isLessThanOrEqualTo(step.at("/latency/p99").asDouble());
        assertThat(step.at("/latency/p99").asDouble())
            .isLessThanOrEqualTo(step.at("/latency/max").asDouble());
        assertThat(step.at("/clientCpu/cores").isNumber()).as(where).isTrue();
        assertThat(step.get("histogram").asText()).as(where).isNotBlank();
      }
    }
    assertThat(j.get("ratios"))
        .extracting(r -> r.get("baseline").asText() + "@" + r.get("concurrency").asInt())
        .contains("pkcs11-direct@0", "pkcs11-direct@1", "pkcs11-direct@2", "jce@0");
    assertThat(j.at("/derived/addedP50MicrosAtConcurrency1").isNumber()).isTrue();
    assertThat(Files.readString(dir.resolve("ops.html")))
        .contains("new Chart(")
        .contains("\"pkcs11-direct\"");
  }

  @Test
  void cli_decryptPremaster_runsAndWritesReports() throws Exception {
    int rc =
        BenchMain.run(
            "ops",
            "--target",
            svc.target(),
            "--ca",
            svc.caCert().toString(),
            "--cert",
            svc.clientCert("test-client").toString(),
            "--key",
            svc.clientKey("test-client").toString(),
            "--key-name",
            "rsa2048",
            "--op",
            "decrypt-premaster",
            "-c",
            "2",
            "--warmup",
            "0.3s",
            "--first-warmup",
            "0.5s",
            "--jit-quiet-max",
            "0s",
            "--duration",
            "1s",
            "--baselines",
            "jce",
            "--out",
            dir.toString(),
            "--name",
            "dp");
    assertThat(rc).isZero();
    JsonNode j = new ObjectMapper().readTree(dir.resolve("dp.json").toFile());
    JsonNode step = j.at("/modes/0/steps/0");
    assertThat(j.at("/settings/operation").asText()).isEqualTo("decrypt-premaster");
    assertThat(step.get("ops").asLong()).isPositive().isEqualTo(step.at("/latency/count").asLong());
    assertThat(step.get("errors").size()).isZero();
    assertThat(dir.resolve("dp.html")).exists();
  }

  /**
   * get-key: the RPC without an HSM step (baselines skipped with a note), and the JIT wait after
   * the first warm-up bounded by --jit-quiet-max and recorded per mode.
   */
  @Test
  void cli_getKey_measuresTheRpcAlone_andRecordsTheJitWait() throws Exception {
    int rc =
        BenchMain.run(
            "ops",
            "--target",
            svc.target(),
            "--ca",
            svc.caCert().toString(),
            "--cert",
            svc.clientCert("test-client").toString(),
            "--key",
            svc.clientKey("test-client").toString(),
            "--key-name",
            "ec-p256",
            "--op",
            "get-key",
            "-c",
            "1",
            "--warmup",
            "0.3s",
            "--first-warmup",
            "0.5s",
            "--jit-quiet-max",
            "1s",
            "--duration",
            "1s",
            "--baselines",
            "jce",
            "--out",
            dir.toString(),
            "--no-html",
            "--name",
            "gk");
    assertThat(rc).isZero();
    JsonNode j = new ObjectMapper().readTree(dir.resolve("gk.json").toFile());
    assertThat(j.at("/settings/operation").asText()).isEqualTo("get-key");
    assertThat(j.get("modes").size()).isEqualTo(1);
    JsonNode step = j.at("/modes/0/steps/0");
    assertThat(step.get("ops").asLong()).isPositive().isEqualTo(step.at("/latency/count").asLong());
    assertThat(step.get("errors").size()).isZero();
    assertThat(j.toString()).contains("baselines skipped: get-key");
    assertThat(j.at("/settings/jitQuietMaxSeconds").asDouble()).isEqualTo(1.0);
    // At most the bound (plus one 1 s sampling window that may straddle it).
    assertThat(j.at("/settings/jitSettleSeconds/keyhold").asDouble()).isBetween(0.0, 2.5);
  }

  @Test
  void cli_unknownKey_refusesWithTheKeysItMayUse() {
    String err =
        runCapturingErr(
            2,
            "ops",
            "--target",
            svc.target(),
            "--ca",
            svc.caCert().toString(),
            "--cert",
            svc.clientCert("test-client").toString(),
            "--key",
            svc.clientKey("test-client").toString(),
            "--key-name",
            "no-such-key",
            "--out",
            dir.toString());
    assertThat(err).contains("key 'no-such-key' is unknown").contains("rsa2048");
  }

  @Test
  void cli_unreachableTarget_refusesWithAClearMessage() throws Exception {
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    String err =
        runCapturingErr(
            2,
            "ops",
            "--target",
            "127.0.0.1:" + port,
            "--ca",
            svc.caCert().toString(),
            "--cert",
            svc.clientCert("test-client").toString(),
            "--key",
            svc.clientKey("test-client").toString(),
            "--out",
            dir.toString());
    assertThat(err).contains("cannot reach Keyhold at 127.0.0.1:" + port);
  }

  private static String runCapturingErr(int expectedRc, String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true));
    int rc;
    try {
      rc = BenchMain.run(args);
    } finally {
      System.setErr(old);
    }
    String err = buf.toString();
    assertThat(rc).as(err).isEqualTo(expectedRc);
    return err;
  }
}
