package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.client.testing.SilentListener;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;

/**
 * When Keyhold cannot help (HSM failing, service down, caller not authorized), the handshake ends
 * with an alert within the client's deadline and the server keeps serving everyone else.
 */
class NettyFailureIT {

  private static KeyholdClient client(TestKeyholdService svc, String identity, Duration deadline) {
    return KeyholdClient.create(
        TestClients.config(svc, identity).deadline(deadline).maxAttempts(2).build());
  }

  @Test
  void hsmFailing_handshakeAlert_thenServerServesAgain() throws Exception {
    // A real PKCS#11 failure: the fault shim makes SoftHSM's C_Sign and C_Decrypt answer
    // CKR_DEVICE_ERROR, below SunPKCS11, exactly as a failing HSM would.
    FaultShim shim = FaultShim.create();
    try (TestKeyholdService svc =
            TestKeyholdService.builder()
                .token(shim.openToken())
                .probeInterval(Duration.ofMillis(200))
                .start();
        KeyholdClient client = client(svc, "test-client", Duration.ofSeconds(10))) {
      SslContext ctx = KeyholdSslContexts.forServer(client, "rsa2048");
      try (TestHttpsServer server = new TestHttpsServer(ctx, 1);
          KeepAliveHttpsConnection established =
              KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
        shim.failFunctions(FaultShim.DEVICE_ERROR, "C_Sign", "C_Decrypt");

        Throwable t = catchThrowable(() -> KeepAliveHttpsConnection.open(server.port(), "TLSv1.3"));
        assertThat(t).isInstanceOf(SSLException.class).hasMessageContaining("alert");
        // The established connection's own (successful) event may still be queued: skip it.
        SslHandshakeCompletionEvent e;
        do {
          e = server.handshakes.poll(30, TimeUnit.SECONDS);
        } while (e != null && e.isSuccess());
        assertThat(e).as("the server saw the handshake fail").isNotNull();
        // RSA key exchange fails the same way, through DecryptPremaster.
        Peers.Result rsaKx =
            Peers.sClient(server.port(), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(rsaKx.output()).contains("alert").doesNotContain("Hello from Keyhold");

        // The same event loop still serves the established connection, and new ones once the HSM is
        // back (the device error took the token out of service until the probe finds it well).
        assertThat(established.get()).startsWith("Hello from Keyhold");
        shim.clear();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
          try (KeepAliveHttpsConnection again =
              KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
            assertThat(again.get()).startsWith("Hello from Keyhold");
            break;
          } catch (SSLException notYet) {
            assertThat(System.nanoTime()).as("served again within 30 s").isLessThan(until);
            Thread.sleep(50); // polling interval while the probe brings the token back
          }
        }
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    }
  }

  @Test
  void serviceDown_handshakeAlertWithinDeadline_establishedConnectionStillServed()
      throws Exception {
    TestKeyholdService svc = TestKeyholdService.start();
    try (KeyholdClient client = client(svc, "test-client", Duration.ofSeconds(3))) {
      SslContext ctx = KeyholdSslContexts.forServer(client, "ec-p256");
      try (TestHttpsServer server = new TestHttpsServer(ctx, 1);
          KeepAliveHttpsConnection established =
              KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
        svc.close();

        long start = System.nanoTime();
        Throwable t = catchThrowable(() -> KeepAliveHttpsConnection.open(server.port(), "TLSv1.3"));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(t).isInstanceOf(SSLException.class).hasMessageContaining("alert");
        // Refused connections fail fast; the bound is 2 attempts x 3 s deadline plus a margin (the
        // never-answering target below is what exercises the deadline itself).
        assertThat(took).isLessThan(Duration.ofSeconds(3 * 2 + 2));

        assertThat(established.get()).startsWith("Hello from Keyhold");
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    } finally {
      svc.close();
    }
  }

  @Test
  void serviceAcceptsButNeverAnswers_handshakeAlertWithinDeadlineTimesAttempts() throws Exception {
    Duration deadline = Duration.ofSeconds(2);
    int attempts = 2;
    try (TestKeyholdService svc = TestKeyholdService.start();
        KeyholdClient full = client(svc, "test-client", Duration.ofSeconds(10));
        SilentListener silent = new SilentListener();
        KeyholdClient hung =
            KeyholdClient.create(
                KeyholdClientConfig.builder()
                    .target(silent.target())
                    .trustedCa(svc.caCert())
                    .clientCertificate(svc.clientCert("test-client"), svc.clientKey("test-client"))
                    .authority("localhost")
                    .deadline(deadline)
                    .maxAttempts(attempts)
                    .build())) {
      // Public facts from the real service, private-key steps to a target that accepts TCP and
      // never answers: only the client's deadline ends the wait.
      SslContext ctx =
          KeyholdSslContexts.serverBuilder(hung, List.of(OffloadedKey.fetch(full, "ec-p256")))
              .build();
      try (TestHttpsServer server = new TestHttpsServer(ctx, 1)) {
        long start = System.nanoTime();
        Throwable t = catchThrowable(() -> KeepAliveHttpsConnection.open(server.port(), "TLSv1.3"));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(t).isInstanceOf(SSLException.class).hasMessageContaining("alert");
        assertThat(took)
            .as("alert within deadline x attempts plus a small margin")
            .isLessThan(deadline.multipliedBy(attempts).plusSeconds(2));
        assertThat(silent.accepted()).as("the client reached the silent target").isPositive();
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    }
  }

  @Test
  void callerNotAuthorized_handshakeAlert_forSignAndDecrypt() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start();
        KeyholdClient full = client(svc, "test-client", Duration.ofSeconds(10));
        KeyholdClient limited = client(svc, "limited-client", Duration.ofSeconds(10))) {
      // limited-client may only sign with ec-* keys: the chain comes from a full client, the
      // private-key steps from the limited one, which the service refuses (NOT_FOUND).
      SslContext ctx =
          KeyholdSslContexts.serverBuilder(limited, List.of(OffloadedKey.fetch(full, "rsa2048")))
              .build();
      try (TestHttpsServer server = new TestHttpsServer(ctx, 1)) {
        Peers.Result tls13 = Peers.sClient(server.port(), "-tls1_3");
        assertThat(tls13.output()).contains("alert").doesNotContain("Hello from Keyhold");
        Peers.Result rsaKx =
            Peers.sClient(server.port(), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(rsaKx.output()).contains("alert").doesNotContain("Hello from Keyhold");
        assertThat(svc.metrics().count("sign", "ok")).isZero();
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    }
  }
}
