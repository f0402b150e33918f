package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.service.testing.TestHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ops --start-service} end to end through the CLI: the bench starts the service as a child
 * JVM on SoftHSM (listen port 0), measures its CPU and peak RSS through /proc, runs pkcs11-direct
 * at the sweep's concurrency and at hsm.sessions threads, derives the overhead figure, and stops
 * the child. Checks the accounting, never the speed.
 */
class StartServiceIT {
  @TempDir Path dir;

  private Path config(TestHsm hsm) throws Exception {
    Path pin = dir.resolve("pin");
    char[] secret = hsm.hsmConfig().pin().read();
    Files.writeString(pin, new String(secret));
    java.util.Arrays.fill(secret, '\0');
    var pki = hsm.pki();
    String yaml =
        """
        listen: 127.0.0.1:0
        tls:
          certChain: %s
          privateKey: %s
          clientCa: %s
        hsm:
          library: %s
          tokenLabel: %s
          pin: { file: %s }
          sessions: 2
        audit:
          file: %s
        policy:
          - client: test-client
            keys: ["*"]
            operations: [sign]
        """
            .formatted(
                pki.cert("server"),
                pki.key("server"),
                pki.caCert(),
                TestHsm.LIBRARY,
                TestHsm.TOKEN_LABEL,
                pin,
                dir.resolve("audit.log"));
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void ops_startService_measuresTheChildAndStopsIt() throws Exception {
    TestHsm hsm = TestHsm.shared();
    Path cfg = config(hsm);
    int rc =
        BenchMain.run(
            "ops",
            "--config",
            cfg.toString(),
            "--start-service",
            "--ca",
            hsm.pki().caCert().toString(),
            "--cert",
            hsm.pki().cert("test-client").toString(),
            "--key",
            hsm.pki().key("test-client").toString(),
            "--key-name",
            "rsa2048",
            "-c",
            "1",
            "--jit-quiet-max",
            "0s",
            "--first-warmup",
            "1s",
            "--warmup",
            "500ms",
            "--duration",
            "1500ms",
            "--baselines",
            "pkcs11-direct",
            "--out",
            dir.toString(),
            "--name",
            "ss",
            "--no-html");
    assertThat(rc).as("exit code; service log %s", dir.resolve("service.log")).isZero();
    JsonNode j = new ObjectMapper().readTree(dir.resolve("ss.json").toFile());

    String service = j.at("/settings/service").asText();
    Matcher m = Pattern.compile("child JVM pid (\\d+)").matcher(service);
    assertThat(m.find()).as(service).isTrue();
    long pid = Long.parseLong(m.group(1));
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .as("the child service is stopped after the run")
        .isFalse();

    JsonNode kh = j.at("/modes/0");
    assertThat(kh.get("mode").asText()).isEqualTo("keyhold");
    JsonNode step = kh.at("/steps/0");
    long ops = step.get("ops").asLong();
    assertThat(ops).isPositive().isEqualTo(step.at("/latency/count").asLong());
    // Service CPU: per-op figure and cores agree with each other over the measured window.
    double cores = step.at("/serviceCpu/cores").asDouble();
    double perOp = step.at("/serviceCpu/microsPerOp").asDouble();
    double seconds = step.get("seconds").asDouble();
    assertThat(perOp).isPositive();
    assertThat(cores * seconds * 1e6 / ops)
        .isCloseTo(perOp, org.assertj.core.data.Percentage.withPercentage(5));
    assertThat(cores).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors() + 0.05);
    assertThat(step.get("servicePeakRssBytes").asLong())
        .isGreaterThanOrEqualTo(step.get("serviceRssBytes").asLong())
        .isPositive();
    assertThat(step.get("backgroundCores").isNumber()).isTrue();

    // pkcs11-direct at the sweep's c=1 and at hsm.sessions = 2 threads; the service ran no
    // step at c=2.
    JsonNode direct = j.at("/modes/1");
    assertThat(direct.get("mode").asText()).isEqualTo("pkcs11-direct");
    assertThat(direct.get("steps"))
        .extracting(s -> s.get("concurrency").asInt())
        .containsExactly(1, 2);
    assertThat(kh.get("steps")).extracting(s -> s.get("concurrency").asInt()).containsExactly(1);
    assertThat(j.get("ratios"))
        .extracting(r -> r.get("baseline").asText())
        .contains("pkcs11-direct with 2 threads = hsm.sessions");

    // Overhead = service CPU per op minus the HSM operation's own CPU per op, same run.
    double hsmOwn = j.at("/modes/1/steps/0/clientCpu/microsPerOp").asDouble();
    assertThat(j.at("/derived/serviceOverheadCpuMicrosPerOp/c=1").asDouble())
        .isCloseTo(perOp - hsmOwn, org.assertj.core.data.Offset.offset(0.01));
    assertThat(j.at("/derived/hsmSessions").asInt()).isEqualTo(2);
  }
}
