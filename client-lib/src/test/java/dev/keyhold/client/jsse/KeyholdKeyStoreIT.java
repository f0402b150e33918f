package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.client.jca.KeyholdPrivateKey;
import dev.keyhold.client.jca.KeyholdProvider;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509KeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * KeyStore type "Keyhold": configured by a properties stream only, usable through the JDK's own
 * KeyManagerFactory (as Tomcat, Jetty and Spring Boot do), and a real handshake then runs its
 * private-key step remotely.
 */
class KeyholdKeyStoreIT {
  static TestKeyholdService svc;

  @BeforeAll
  static void start() {
    KeyholdProvider.install();
    svc = TestKeyholdService.start();
  }

  @AfterAll
  static void stop() {
    svc.close();
  }

  private static String properties(String keys) {
    return String.join(
        "\n",
        "target=" + svc.target(),
        "ca=" + svc.caCert(),
        "cert=" + svc.clientCert("test-client"),
        "key=" + svc.clientKey("test-client"),
        "authority=localhost",
        "deadline=5s",
        "keys=" + keys);
  }

  private static KeyStore load(String props) throws Exception {
    KeyStore ks = KeyStore.getInstance("Keyhold", KeyholdProvider.NAME);
    ks.load(new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)), null);
    return ks;
  }

  @ParameterizedTest
  @ValueSource(strings = {"SunX509", "PKIX"})
  void keyStore_viaJdkKeyManagerFactory_handshakeOffloaded(String kmfAlgorithm) throws Exception {
    KeyStore ks = load(properties("rsa2048, ec-p256"));
    assertThat(Collections.list(ks.aliases())).containsExactly("rsa2048", "ec-p256");
    assertThat(ks.isKeyEntry("rsa2048")).isTrue();
    assertThat(ks.getKey("rsa2048", new char[0])).isInstanceOf(KeyholdPrivateKey.class);

    KeyManagerFactory kmf = KeyManagerFactory.getInstance(kmfAlgorithm);
    kmf.init(ks, new char[0]);
    X509KeyManager km = (X509KeyManager) kmf.getKeyManagers()[0];
    SSLContext serverCtx = SSLContext.getInstance("TLS");
    serverCtx.init(kmf.getKeyManagers(), null, null);
    X509Certificate rsaLeaf = (X509Certificate) ks.getCertificate("rsa2048");

    long decrypts = svc.metrics().count("decrypt_premaster", "ok");
    try (TlsPeers.Server server = new TlsPeers.Server(serverCtx, false, false)) {
      String[] facts =
          TlsPeers.connect(
              TlsPeers.context(null, TlsPeers.trusting(rsaLeaf)),
              server.port(),
              "TLSv1.2",
              "TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(facts[2]).isEqualTo("ok\n");
    }
    assertThat(
            TlsPeers.awaitCount(() -> svc.metrics().count("decrypt_premaster", "ok"), decrypts + 1))
        .isEqualTo(decrypts + 1);
    // The JDK's key manager picks the Keyhold entries by key type, with their own chains.
    String rsaAlias = km.chooseServerAlias("RSA", null, null);
    assertThat(rsaAlias).endsWith("rsa2048");
    assertThat(km.getPrivateKey(rsaAlias)).isInstanceOf(KeyholdPrivateKey.class);
    assertThat(km.getCertificateChain(rsaAlias)).startsWith(rsaLeaf);
    String ecAlias = km.chooseServerAlias("EC", null, null);
    assertThat(ecAlias).endsWith("ec-p256");
    assertThat(km.getPrivateKey(ecAlias)).isInstanceOf(KeyholdPrivateKey.class);
    assertThat(km.getCertificateChain(ecAlias)[0]).isEqualTo(ks.getCertificate("ec-p256"));
  }

  @Test
  void keyStore_missingProperty_clearError() {
    assertThatThrownBy(() -> load("target=127.0.0.1:1\nkeys=rsa2048"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("'ca'");
  }

  @Test
  void keyStore_isReadOnly() throws Exception {
    KeyStore ks = load(properties("ec-p256"));
    assertThatThrownBy(() -> ks.deleteEntry("ec-p256")).isInstanceOf(KeyStoreException.class);
  }
}
