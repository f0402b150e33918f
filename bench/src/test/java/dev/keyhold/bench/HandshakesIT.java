package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.bench.handshake.HandshakeBench;
import dev.keyhold.bench.handshake.HandshakeBench.Server;
import dev.keyhold.bench.load.LoadRunner;
import dev.keyhold.bench.load.ServiceOperations;
import dev.keyhold.bench.ops.Baselines;
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
    java.security.Provider installed = null;
    try (TestKeyholdService svc = TestKeyholdService.builder().metrics(true).start()) {
      java.security.Provider token = svc.hsm().token().provider();
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
                  Server.JSSE_PKCS11,
                  Server.JSSE_KEYHOLD,
                  Server.NETTY_KEYHOLD,
                  Server.NETTY_LOCAL),
              () -> {
                // As HandshakesCommand does: JSSE finds SunPKCS11 signatures only when installed.
                java.security.Security.addProvider(token);
                return Baselines.pkcs11KeyStore(token, svc.hsm().hsmConfig());
              },
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
              "HandshakesIT",
              new ServiceOperations(
                  java.net.URI.create("http://127.0.0.1:" + svc.metricsPort() + "/metrics")),
              Duration.ZERO,
              null);
      installed = token;
      BenchReport report =
          new HandshakeBench(settings, LoadRunner.Progress.NONE, (m, s) -> {}, m -> {}).run();
      JsonReport.write(report, dir.resolve("hs.json"));

      JsonNode j = new ObjectMapper().readTree(dir.resolve("hs.json").toFile());
      assertThat(j.get("kind").asText()).isEqualTo("handshakes");
      assertThat(j.get("modes"))
          .extracting(m -> m.get("mode").asText())
          .containsExactly(
              "jsse-pkcs12", "jsse-pkcs11", "jsse-keyhold", "netty-keyhold", "netty-local");
      for (JsonNode mode : j.get("modes")) {
        JsonNode step = mode.at("/steps/0");
        String where = mode.get("mode").asText();
        assertThat(step.get("ops").asLong())
            .as(where)
            .isPositive()
            .isEqualTo(step.at("/latency/count").asLong());
        assertThat(step.get("errors").size()).as(where + " " + step.get("errors")).isZero();
        assertThat(mode.get("description").asText()).as(where).contains("negotiated TLSv1.3");
        // The server side's CPU: a share of the bench JVM, which also runs the client. Without
        // the service's pid (here it is not a process of its own), an offloaded server's CPU would
        // leave out the service: it is not reported rather than reported short.
        if (where.endsWith("keyhold")) {
          assertThat(step.path("serverCpu").path("microsPerOp").isMissingNode()).as(where).isTrue();
          continue;
        }
        assertThat(step.at("/serverCpu/microsPerOp").asDouble()).as(where).isPositive();
        assertThat(step.at("/serverCpu/microsPerOp").asDouble())
            .as(where)
            .isLessThan(step.at("/clientCpu/microsPerOp").asDouble());
        assertThat(step.at("/jvmInternalCpu/microsPerOp").isNumber()).as(where).isTrue();
      }
      assertThat(j.at("/derived/handshakesPerServerCpuSecond").size()).isEqualTo(3);
      assertThat(j.get("ratios"))
          .extracting(
              r ->
                  r.get("mode").asText()
                      + "/"
                      + r.get("baseline").asText()
                      + "@"
                      + r.get("concurrency").asInt())
          .contains("jsse-keyhold/jsse-pkcs12@0", "netty-keyhold/netty-local@0");
      assertThat(j.get("notes").toString()).doesNotContain("failed").doesNotContain("not one per");
      assertThat(j.get("ratios"))
          .extracting(r -> r.get("baseline").asText() + "@" + r.get("concurrency").asInt())
          .contains("jsse-pkcs11@0");
      // No resumption: the service completed exactly one private-key operation per handshake the
      // client completed, warm-up and drain included, for both offloaded servers.
      JsonNode perHandshake = j.at("/derived/keyholdOperationsPerHandshakes");
      assertThat(perHandshake.size()).isEqualTo(2);
      for (String mode : List.of("jsse-keyhold c=2", "netty-keyhold c=2")) {
        String[] f = perHandshake.get(mode).asText().split(" ");
        assertThat(Long.parseLong(f[0])).as(mode).isPositive().isEqualTo(Long.parseLong(f[3]));
      }
    } finally {
      if (installed != null) {
        java.security.Security.removeProvider(installed.getName());
      }
    }
  }
}
