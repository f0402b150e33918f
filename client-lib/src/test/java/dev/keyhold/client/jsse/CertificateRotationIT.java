package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.jca.KeyholdProvider;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.Rotation;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.SlowKey;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate rotation without restarts on JSSE (issue 14 item 4): a running JSSE server built on
 * client-lib's key manager, or on the {@code Keyhold} key store through the JDK's PKIX key manager,
 * against a real service on SoftHSM. A renewed certificate is imported with {@code keyhold keys
 * cert import} (a child process, as an operator runs it); the service re-scans the token,
 * client-lib refreshes the key, and the next real {@code openssl s_client} receives the new
 * certificate, while a handshake held in its signature step finishes on the old one. A name moved
 * to a new key ({@code keys delete}, {@code keys generate}) is followed too, signatures included.
 */
class CertificateRotationIT {
  private static final long PID = ProcessHandle.current().pid();
  private static final SlowKey.Control HSM = new SlowKey.Control();
  @TempDir static Path dir;
  static TestKeyholdService svc;
  static KeyholdClient client;
  static Rotation rotation;

  @BeforeAll
  static void start() throws Exception {
    KeyholdProvider.install();
    svc =
        TestKeyholdService.builder()
            .decorator(HSM.decorator())
            .rescanInterval(Duration.ofMillis(100))
            .start();
    rotation = new Rotation(svc, dir);
    client =
        KeyholdClient.create(
            TestClients.config(svc, "test-client")
                .deadline(Duration.ofSeconds(30))
                .keyRefreshInterval(Duration.ofMillis(100))
                .build());
  }

  @AfterAll
  static void stop() {
    HSM.open();
    if (client != null) {
      client.close();
    }
    for (String k : new String[] {"rot-km-" + PID, "rot-move-" + PID, "rot-ks-" + PID}) {
      if (rotation != null && rotation.served(k) != null) {
        rotation.delete(k);
      }
    }
    if (svc != null) {
      svc.close();
    }
  }

  private static String generate(String label) throws InterruptedException {
    rotation.generate(label, "ec:p256");
    Rotation.await("the service re-scan serves " + label, () -> rotation.served(label) != null);
    return label;
  }

  private static X509Certificate leaf(KeyholdKeyManager km, String key) {
    return km.getCertificateChain(key)[0];
  }

  @Test
  void keyManager_renewedCertificate_nextHandshakeSeesIt_inFlightFinishesOnOld() throws Exception {
    String key = generate("rot-km-" + PID);
    KeyholdKeyManager km = KeyholdKeyManager.create(client, key);
    try (TlsPeers.Server server = new TlsPeers.Server(km.newSslContext(null), false, false)) {
      X509Certificate placeholder = leaf(km, key);
      assertThat(Rotation.opensslLeaf(server.port())).isEqualTo(placeholder);

      X509Certificate first = rotation.renew(key, "rotation one");
      Rotation.await(
          "the key manager presents the renewed chain", () -> leaf(km, key).equals(first));
      X509Certificate seen = Rotation.opensslLeaf(server.port());
      assertThat(seen.getSerialNumber()).isEqualTo(first.getSerialNumber());
      assertThat(seen.getSubjectX500Principal().getName()).isEqualTo("CN=rotation one");

      // A handshake held inside its signature (the HSM gate is closed) while the next renewal
      // lands.
      int entered = HSM.entered.get();
      HSM.close();
      SSLContext trusting = TlsPeers.context(null, TlsPeers.trusting(rotation.caCert()));
      CompletableFuture<X509Certificate> inFlight =
          CompletableFuture.supplyAsync(
              () -> {
                try (SSLSocket s =
                    (SSLSocket)
                        trusting.getSocketFactory().createSocket("127.0.0.1", server.port())) {
                  s.setSoTimeout(60_000);
                  s.startHandshake();
                  return (X509Certificate) s.getSession().getPeerCertificates()[0];
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      Rotation.await("the handshake is in its HSM signature", () -> HSM.entered.get() > entered);
      X509Certificate second = rotation.renew(key, "rotation two");
      Rotation.await(
          "the key manager presents the second renewal", () -> leaf(km, key).equals(second));
      HSM.open();
      assertThat(inFlight.get(60, TimeUnit.SECONDS))
          .as("the handshake in flight finished on the chain it started with")
          .isEqualTo(first);
      assertThat(Rotation.opensslLeaf(server.port()).getSerialNumber())
          .isEqualTo(second.getSerialNumber());
      assertThat(server.failures).isEmpty();
    } finally {
      HSM.open();
    }
  }

  @Test
  void keyManager_nameMovedToNewKey_nextHandshakeSignsWithTheNewKey() throws Exception {
    String key = generate("rot-move-" + PID);
    KeyholdKeyManager km = KeyholdKeyManager.create(client, key);
    try (TlsPeers.Server server = new TlsPeers.Server(km.newSslContext(null), false, false)) {
      PublicKey old = rotation.served(key).publicKey();
      assertThat(Rotation.opensslLeaf(server.port()).getPublicKey()).isEqualTo(old);

      rotation.delete(key);
      rotation.generate(key, "ec:p256");
      Rotation.await(
          "the service serves the new key under the old name",
          () -> rotation.served(key) != null && !rotation.served(key).publicKey().equals(old));
      PublicKey moved = rotation.served(key).publicKey();
      Rotation.await(
          "the key manager presents the new key's chain",
          () -> leaf(km, key).getPublicKey().equals(moved));
      // openssl checks the CertificateVerify signature against the new certificate: the handle
      // signs with the new key.
      assertThat(Rotation.opensslLeaf(server.port(), "-tls1_3").getPublicKey()).isEqualTo(moved);
      assertThat(km.getPrivateKey(key)).isNotNull();
      assertThat(server.failures).isEmpty();
    }
  }

  @Test
  void keyStore_pkixKeyManager_renewedCertificate_nextHandshakeSeesIt() throws Exception {
    String key = generate("rot-ks-" + PID);
    String props =
        String.join(
            "\n",
            "target=" + svc.target(),
            "ca=" + svc.caCert(),
            "cert=" + svc.clientCert("test-client"),
            "key=" + svc.clientKey("test-client"),
            "authority=localhost",
            "deadline=10s",
            "keyRefreshInterval=100ms",
            "keys=" + key);
    KeyStore ks = KeyStore.getInstance("Keyhold", KeyholdProvider.NAME);
    ks.load(new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)), null);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(ks, null);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    try (TlsPeers.Server server = new TlsPeers.Server(ctx, false, false)) {
      assertThat(Rotation.opensslLeaf(server.port())).isEqualTo(ks.getCertificate(key));
      X509Certificate renewed = rotation.renew(key, "rotation key store");
      Rotation.await(
          "the key store holds the renewed chain", () -> renewed.equals(certificate(ks, key)));
      assertThat(Rotation.opensslLeaf(server.port()).getSerialNumber())
          .isEqualTo(renewed.getSerialNumber());
      assertThat(server.failures).isEmpty();
    }
  }

  private static java.security.cert.Certificate certificate(KeyStore ks, String alias) {
    try {
      return ks.getCertificate(alias);
    } catch (java.security.KeyStoreException e) {
      throw new IllegalStateException(e);
    }
  }
}
