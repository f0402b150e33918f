package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.bench.handshake.HandshakeBench;
import dev.keyhold.bench.handshake.HandshakeBench.Server;
import dev.keyhold.bench.load.LoadRunner;
import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.bench.report.JsonReport;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code handshakes} briefly against the JSSE and Netty demo servers, with the key local and
 * offloaded to a real service, and checks that every handshake completed and the report is
 * consistent. (b), SunPKCS11 in-process, needs its provider installed JVM-wide, so it is left to
 * the CLI.
 */
class HandshakesIT {
  @TempDir Path dir;

  @Test
  void handshakes_localAndOffloadedServers_allComplete() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      KeyholdClientConfig client =
          KeyholdClientConfig.builder()
              .target(svc.target())
              .trustedCa(svc.caCert())
              .clientCertificate(svc.clientCert("test-client"), svc.clientKey("test-client"))
              .deadline(Duration.ofSeconds(10))
              .build();
      HandshakeBench.Settings settings =
          new HandshakeBench.Settings(
              client,
              "rsa2048",
              List.of(
                  Server.JSSE_PKCS12,
                  Server.JSSE_KEYHOLD,
                  Server.NETTY_KEYHOLD,
                  Server.NETTY_LOCAL),
              null,
              List.of(2),
              Duration.ofMillis(300),
              Duration.ofMillis(500),
              Duration.ofMillis(1500),
              8,
              2,
              null,
              null,
              dir.resolve("keys"),
              null,
              "in-process test service",
              "HandshakesIT");
      BenchReport report =
          new HandshakeBench(settings, LoadRunner.Progress.NONE, (m, s) -> {}, m -> {}).run();
      JsonReport.write(report, dir.resolve("hs.json"));

      JsonNode j = new ObjectMapper().readTree(dir.resolve("hs.json").toFile());
      assertThat(j.get("kind").asText()).isEqualTo("handshakes");
      assertThat(j.get("modes"))
          .extracting(m -> m.get("mode").asText())
          .containsExactly("jsse-pkcs12", "jsse-keyhold", "netty-keyhold", "netty-local");
      for (JsonNode mode : j.get("modes")) {
        JsonNode step = mode.at("/steps/0");
        String where = mode.get("mode").asText();
        assertThat(step.get("ops").asLong())
            .as(where)
            .isPositive()
            .isEqualTo(step.at("/latency/count").asLong());
        assertThat(step.get("errors").size()).as(where + " " + step.get("errors")).isZero();
        assertThat(mode.get("description").asText()).as(where).contains("negotiated TLSv1.3");
      }
      assertThat(j.get("ratios"))
          .extracting(
              r ->
                  r.get("mode").asText()
                      + "/"
                      + r.get("baseline").asText()
                      + "@"
                      + r.get("concurrency").asInt())
          .contains("jsse-keyhold/jsse-pkcs12@0", "netty-keyhold/netty-local@0");
      assertThat(j.get("notes").toString()).doesNotContain("failed");
    }
  }
}
