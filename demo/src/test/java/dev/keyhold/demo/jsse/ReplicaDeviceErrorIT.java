package dev.keyhold.demo.jsse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.demo.jsse.JsseDemoServer.ClientAuth;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device error on one replica's token does not fail a single handshake of the demo server while
 * the other replica is healthy; with both tokens failing, a handshake fails fast with an alert.
 * Each replica is an in-process service on its own {@link FaultShim} (its own copy of the shim
 * library and control file, both over the same SoftHSM token), so the fault hits one replica only.
 * The demo's client-lib client uses round_robin over {@code static:///} both replicas.
 */
class ReplicaDeviceErrorIT {
  @TempDir Path dir;

  private static SSLContext freshContext(Path ca) throws Exception {
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    try (InputStream in = Files.newInputStream(ca)) {
      ts.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    // A new context per connection: no session to resume, so every handshake signs in the HSM.
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  @Test
  void oneReplicaDeviceError_noFailedHandshake_bothFailing_fastAlert() throws Exception {
    FaultShim shim1 = FaultShim.create();
    FaultShim shim2 = FaultShim.create();
    try (TestKeyholdService r1 =
            TestKeyholdService.builder()
                .token(shim1.openToken())
                .probeInterval(Duration.ofMillis(200))
                .start();
        TestKeyholdService r2 =
            TestKeyholdService.builder()
                .token(shim2.openToken())
                .probeInterval(Duration.ofMillis(200))
                .start();
        KeyholdClient client =
            KeyholdClient.create(
                TestClients.config(r1, "test-client")
                    .target("static:///127.0.0.1:" + r1.port() + ",127.0.0.1:" + r2.port())
                    .deadline(Duration.ofSeconds(3))
                    .build())) {
      assertThat(r2.caCert()).as("both replicas share the test PKI").isEqualTo(r1.caCert());
      KeyholdKeyManager km =
          KeyholdKeyManager.builder(client)
              .key("ec-p256", DemoPki.chainFor(r1, client, "ec-p256", false, dir))
              .build();
      try (JsseDemoServer server =
          JsseDemoServer.start(km, "127.0.0.1", 0, ClientAuth.NONE, null)) {
        Path ca = r1.caCert();
        String suite = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
        assertThat(JavaTlsClient.get(freshContext(ca), server.port(), "TLSv1.2", suite))
            .contains("hello from Keyhold");

        // Replica 1's token: CKR_DEVICE_ERROR on every call for 2 s. Full handshakes go on
        // until the shim has injected faults and the fault window is over.
        long signsBefore = r2.metrics().count("sign", "ok");
        shim1.deviceError(Duration.ofSeconds(2));
        int handshakes = 0;
        long windowEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < windowEnd || shim1.counter("injected") == 0) {
          String page = JavaTlsClient.get(freshContext(ca), server.port(), "TLSv1.2", suite);
          assertThat(page)
              .as("handshake %d during replica 1's device error", handshakes)
              .contains("hello from Keyhold");
          handshakes++;
          assertThat(handshakes).as("the shim injected a fault").isLessThan(2000);
        }
        assertThat(shim1.counter("injected")).as("replica 1 really failed").isPositive();
        assertThat(r2.metrics().count("sign", "ok") - signsBefore)
            .as("replica 2 signed during the fault")
            .isPositive();

        // Both tokens failing: a clear failure (alert) within the client's deadline, no hang.
        shim1.failFunctions(FaultShim.DEVICE_ERROR, "C_Sign", "C_SignInit");
        shim2.failFunctions(FaultShim.DEVICE_ERROR, "C_Sign", "C_SignInit");
        long t0 = System.nanoTime();
        Throwable t =
            catchThrowable(
                () -> JavaTlsClient.get(freshContext(ca), server.port(), "TLSv1.2", suite));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(t)
            .as("handshake with both replicas failing")
            .isInstanceOf(javax.net.ssl.SSLException.class);
        assertThat(t.getMessage()).containsIgnoringCase("alert");
        // Bounded by the client deadline (3 s) plus its retry; far below the 20 s socket timeout.
        assertThat(took).isLessThan(Duration.ofSeconds(15));
        shim1.clear();
        shim2.clear();
      }
    }
  }
}
