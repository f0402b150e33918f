package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.Rotation;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate rotation without restarts on Netty/BoringSSL (issue 14 item 4): a running server on
 * {@link KeyholdSslContexts#forServer} presents a certificate renewed with {@code keyhold keys cert
 * import} to the next real {@code openssl s_client}, over TLS 1.3 and TLS 1.2, for an EC key
 * (signatures) and an RSA key (RSA key exchange too), without rebuilding the context.
 */
class NettyCertificateRotationIT {
  private static final long PID = ProcessHandle.current().pid();
  @TempDir static Path dir;
  static TestKeyholdService svc;
  static KeyholdClient client;
  static Rotation rotation;

  @BeforeAll
  static void start() throws Exception {
    svc = TestKeyholdService.builder().rescanInterval(Duration.ofMillis(100)).start();
    rotation = new Rotation(svc, dir);
    client =
        KeyholdClient.create(
            TestClients.config(svc, "test-client")
                .deadline(Duration.ofSeconds(10))
                .keyRefreshInterval(Duration.ofMillis(100))
                .build());
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    for (String k : new String[] {"rot-netty-ec-" + PID, "rot-netty-rsa-" + PID}) {
      if (rotation != null && rotation.served(k) != null) {
        rotation.delete(k);
      }
    }
    if (svc != null) {
      svc.close();
    }
  }

  @Test
  void ecKey_renewedCertificate_nextOpensslHandshakeSeesIt() throws Exception {
    rotateAndCheck("rot-netty-ec-" + PID, "ec:p256", "-tls1_3");
  }

  @Test
  void rsaKey_renewedCertificate_nextOpensslHandshakeSeesIt_alsoRsaKeyExchange() throws Exception {
    rotateAndCheck("rot-netty-rsa-" + PID, "rsa:2048", "-tls1_2", "-cipher", "AES128-GCM-SHA256");
  }

  private static void rotateAndCheck(String key, String type, String... opensslOptions)
      throws Exception {
    rotation.generate(key, type);
    Rotation.await("the service re-scan serves " + key, () -> rotation.served(key) != null);
    SslContext ctx = KeyholdSslContexts.forServer(client, key);
    try (TestHttpsServer server = new TestHttpsServer(ctx, 1)) {
      X509Certificate before = Rotation.opensslLeaf(server.port(), opensslOptions);
      assertThat(before).isEqualTo(rotation.served(key).chain().get(0));

      X509Certificate renewed = rotation.renew(key, key + " renewed");
      BigInteger serial = renewed.getSerialNumber();
      Rotation.await(
          "openssl receives the renewed certificate from the same context",
          () -> serialSeen(server.port(), opensslOptions).equals(serial));
      X509Certificate after = Rotation.opensslLeaf(server.port(), opensslOptions);
      assertThat(after).isEqualTo(renewed);
      assertThat(after.getSubjectX500Principal().getName()).isEqualTo("CN=" + key + " renewed");
    } finally {
      ReferenceCountUtil.release(ctx);
    }
  }

  private static BigInteger serialSeen(int port, String... options) {
    try {
      return Rotation.opensslLeaf(port, options).getSerialNumber();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
