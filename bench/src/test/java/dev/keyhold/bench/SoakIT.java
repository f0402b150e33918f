package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.service.testing.TestHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code soak} end to end through the CLI, briefly: two replicas as child JVMs on one SoftHSM
 * token, a short capacity step, then 9 s of open-loop Sign through one round_robin client in 3 s
 * intervals. Checks the report's fields and accounting (both replicas served, their /metrics counts
 * add up to the soak's), never the speed; the replicas are stopped afterwards.
 */
class SoakIT {
  @TempDir Path dir;

  private Path config(TestHsm hsm) throws Exception {
    Path pin = dir.resolve("pin");
    char[] secret = hsm.hsmConfig().pin().read();
    Files.writeString(pin, new String(secret));
    java.util.Arrays.fill(secret, '\0');
    var pki = hsm.pki();
    String yaml =
        """
        listen: 127.0.0.1:8443
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
  void soak_twoReplicas_reportsEachIntervalAndBothReplicasServe() throws Exception {
    TestHsm hsm = TestHsm.shared();
    Path cfg = config(hsm);
    int rc =
        BenchMain.run(
            "soak",
            "--config",
            cfg.toString(),
            "--ca",
            hsm.pki().caCert().toString(),
            "--cert",
            hsm.pki().cert("test-client").toString(),
            "--key",
            hsm.pki().key("test-client").toString(),
            "--key-name",
            "ec-p256",
            "--capacity-warmup",
            "1s",
            "--capacity-time",
            "1s",
            "--capacity-concurrency",
            "4",
            "--fraction",
            "0.3",
            "--duration",
            "9s",
            "--interval",
            "3s",
            "--out",
            dir.toString(),
            "--name",
            "s");
    assertThat(rc).as("exit code; replica logs in %s", dir).isZero();
    JsonNode j = new ObjectMapper().readTree(dir.resolve("s.json").toFile());
    assertThat(Files.readString(dir.resolve("s.md"))).contains("| r2 RSS MiB |", "Verdicts:");

    assertThat(j.get("capacityOpsPerSecond").asDouble()).isPositive();
    assertThat(j.get("rate").asDouble())
        .isCloseTo(
            0.3 * j.get("capacityOpsPerSecond").asDouble(),
            org.assertj.core.data.Offset.offset(1.0));
    JsonNode replicas = j.get("replicaList");
    assertThat(replicas).hasSize(2);
    assertThat(replicas.get(0).get("port").asInt())
        .isPositive()
        .isNotEqualTo(replicas.get(1).get("port").asInt());
    assertThat(j.at("/settings/target").asText())
        .isEqualTo(
            "static:///127.0.0.1:"
                + replicas.get(0).get("port").asInt()
                + ",127.0.0.1:"
                + replicas.get(1).get("port").asInt());
    for (JsonNode r : replicas) {
      long pid = r.get("pid").asLong();
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
          .as("replica %s is stopped after the run", pid)
          .isFalse();
    }

    JsonNode intervals = j.get("intervals");
    assertThat(intervals).hasSize(3);
    long ops = 0;
    long[] served = new long[2];
    for (JsonNode iv : intervals) {
      assertThat(iv.get("ops").asLong()).isPositive();
      assertThat(iv.get("errors").asLong()).isZero();
      assertThat(iv.get("p50").asDouble()).isPositive();
      assertThat(iv.get("p99").asDouble()).isGreaterThanOrEqualTo(iv.get("p50").asDouble());
      assertThat(iv.get("p999").asDouble()).isGreaterThanOrEqualTo(iv.get("p99").asDouble());
      ops += iv.get("ops").asLong();
      assertThat(iv.get("replicas")).hasSize(2);
      for (int r = 0; r < 2; r++) {
        JsonNode s = iv.get("replicas").get(r);
        assertThat(s.get("rssBytes").asLong()).isPositive();
        assertThat(s.get("peakRssBytes").asLong())
            .isGreaterThanOrEqualTo(s.get("rssBytes").asLong());
        assertThat(s.get("threads").asLong()).isPositive();
        assertThat(s.get("hsmThreads").asLong()).as("hsm.sessions threads").isEqualTo(2);
        assertThat(s.get("hsmStuckThreads").asLong()).isZero();
        served[r] += s.get("okOps").asLong();
      }
    }
    assertThat(j.get("totalOps").asLong()).isEqualTo(ops);
    assertThat(j.get("totalErrors").asLong()).isZero();
    // round_robin: both replicas got traffic, and their own counters add up to the soak's.
    assertThat(served[0]).as("replica 1 Sign ok").isPositive();
    assertThat(served[1]).as("replica 2 Sign ok").isPositive();
    assertThat(served[0] + served[1]).isEqualTo(ops);
    assertThat(j.at("/latency/count").asLong()).isEqualTo(ops);

    assertThat(j.get("verdicts"))
        .extracting(v -> v.get("name").asText() + "=" + v.get("status").asText())
        .contains("zero errors=pass", "replica 1 served=pass", "replica 2 served=pass")
        .anyMatch(s -> s.startsWith("replica 1 RSS flat="))
        .anyMatch(s -> s.startsWith("replica 2 threads flat="));
  }
}
