package dev.keyhold.demo.netty;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.keyhold.client.netty.KeyholdSslContexts;
import dev.keyhold.client.netty.OffloadedKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.CapturedLog;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Netty demo's claim "one clear line when Keyhold refuses or is down": a burst of handshakes
 * that Keyhold refuses, or that fail because the service is down, gives exactly one WARN line
 * naming the failure class; failures that are not Keyhold's (a peer offering nothing the server
 * accepts) give none; after a successful handshake the next Keyhold failure is logged again.
 */
class NettyDemoFailureLogIT {
  private CapturedLog logs;

  @BeforeEach
  void captureLogs() {
    logs = CapturedLog.of(NettyDemoServer.class);
  }

  @AfterEach
  void releaseLogs() {
    logs.close();
  }

  private List<String> warnings() {
    return logs.events().stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  /** Waits (on the server's own counter, which is bumped after the log line) for n failures. */
  private static void awaitFailures(NettyDemoServer.Handle server, long n) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (server.handshakesFailed() < n) {
      assertThat(System.nanoTime()).as("%d failed handshakes counted", n).isLessThan(end);
      Thread.sleep(10); // polling a counter, not synchronisation by time
    }
  }

  @Test
  void keyholdRefuses_burstOfHandshakes_oneWarnLine_otherFailuresNone() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start();
        KeyholdClient full = TestClients.connect(svc, Duration.ofSeconds(10));
        KeyholdClient limited =
            KeyholdClient.create(
                TestClients.config(svc, "limited-client")
                    .deadline(Duration.ofSeconds(10))
                    .build())) {
      // limited-client may not use rsa2048: every private-key step is refused.
      SslContext ctx =
          KeyholdSslContexts.serverBuilder(limited, List.of(OffloadedKey.fetch(full, "rsa2048")))
              .build();
      try (NettyDemoServer.Handle server = NettyDemoServer.start(ctx, "127.0.0.1", 0, 1)) {
        for (int i = 1; i <= 3; i++) {
          assertThat(NettyDemoServerIT.curl(server.port(), "--tlsv1.3"))
              .doesNotContain("Hello from Keyhold");
          awaitFailures(server, i);
        }
        assertThat(warnings()).hasSize(1);
        assertThat(warnings().get(0)).startsWith("Keyhold refused: TLS handshakes fail");

        // Not Keyhold's failure: plain HTTP on the TLS port.
        NettyDemoServerIT.run(
            "curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + server.port() + "/");
        awaitFailures(server, 4);
        assertThat(warnings()).as("a non-Keyhold failure logs no WARN line").hasSize(1);
        assertThat(server.handshakesCompleted()).isZero();
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    }
  }

  @Test
  void serviceDown_oneWarnLine_thenRecovery_thenDownAgainLogsAgain() throws Exception {
    TestKeyholdService svc = TestKeyholdService.start();
    int port = svc.port();
    try (KeyholdClient client =
        KeyholdClient.create(
            TestClients.config(svc, "test-client")
                .deadline(Duration.ofSeconds(5))
                .maxAttempts(1)
                .build())) {
      SslContext ctx = KeyholdSslContexts.forServer(client, "ec-p256");
      try (NettyDemoServer.Handle server = NettyDemoServer.start(ctx, "127.0.0.1", 0, 1)) {
        assertThat(NettyDemoServerIT.curl(server.port(), "--tlsv1.3"))
            .contains("Hello from Keyhold");
        svc.close();
        for (int i = 1; i <= 3; i++) {
          assertThat(NettyDemoServerIT.curl(server.port(), "--tlsv1.3"))
              .doesNotContain("Hello from Keyhold");
          awaitFailures(server, i);
        }
        assertThat(warnings()).hasSize(1);
        assertThat(warnings().get(0)).startsWith("Keyhold unavailable: TLS handshakes fail");

        svc = TestKeyholdService.builder().port(port).start();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!NettyDemoServerIT.curl(server.port(), "--tlsv1.3").contains("Hello from Keyhold")) {
          assertThat(System.nanoTime()).as("served again within 60 s").isLessThan(end);
        }
        long failedBefore = server.handshakesFailed();
        int warnsBefore = warnings().size();
        assertThat(logs.messages()).contains("Keyhold key operations succeed again");

        svc.close();
        assertThat(NettyDemoServerIT.curl(server.port(), "--tlsv1.3"))
            .doesNotContain("Hello from Keyhold");
        awaitFailures(server, failedBefore + 1);
        assertThat(warnings()).hasSize(warnsBefore + 1);
        assertThat(warnings().get(warnsBefore)).startsWith("Keyhold unavailable");
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    } finally {
      svc.close();
    }
  }
}
