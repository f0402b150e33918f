package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.client.jca.KeyholdPrivateKey;
import dev.keyhold.client.jca.OfflineClients;
import dev.keyhold.client.rpc.KeyholdClient;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Principal;
import java.security.cert.X509Certificate;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Alias selection by key type and issuers, on both sides, without a service. */
class KeyholdKeyManagerTest {
  @TempDir static Path dir;
  static KeyholdClient offline;
  static KeyholdKeyManager km;
  static X509Certificate rsaCert;

  @BeforeAll
  static void setUp() throws Exception {
    offline = OfflineClients.unreachable(dir);
    KeyPair rsa = OfflineClients.rsa(2048);
    KeyPair p256 = OfflineClients.ec("secp256r1");
    KeyPair p384 = OfflineClients.ec("secp384r1");
    rsaCert = OfflineClients.selfSigned(rsa, "CN=rsa");
    km =
        KeyholdKeyManager.builder(offline)
            .key(OfflineClients.handle(offline, "rsa2048", rsa.getPublic(), null), rsaCert)
            .key(
                OfflineClients.handle(offline, "ec-p256", p256.getPublic(), "secp256r1"),
                OfflineClients.selfSigned(p256, "CN=p256"))
            .key(
                OfflineClients.handle(offline, "ec-p384", p384.getPublic(), "secp384r1"),
                OfflineClients.selfSigned(p384, "CN=p384"))
            .build();
  }

  @AfterAll
  static void tearDown() {
    offline.close();
  }

  @Test
  void keyAlgorithm_jsseKeyTypes_mapped() {
    assertThat(KeyholdKeyManager.keyAlgorithm("RSA")).isEqualTo("RSA");
    assertThat(KeyholdKeyManager.keyAlgorithm("EC")).isEqualTo("EC");
    assertThat(KeyholdKeyManager.keyAlgorithm("EC_EC")).isEqualTo("EC");
    assertThat(KeyholdKeyManager.keyAlgorithm("EC_RSA")).isEqualTo("EC");
    assertThat(KeyholdKeyManager.keyAlgorithm("RSASSA-PSS")).isNull();
    assertThat(KeyholdKeyManager.keyAlgorithm("DSA")).isNull();
    assertThat(KeyholdKeyManager.keyAlgorithm(null)).isNull();
  }

  @Test
  void chooseServerAlias_byKeyType_firstInOrder() {
    assertThat(km.chooseServerAlias("RSA", null, null)).isEqualTo("rsa2048");
    assertThat(km.chooseServerAlias("EC", null, null)).isEqualTo("ec-p256");
    assertThat(km.chooseServerAlias("RSASSA-PSS", null, null)).isNull();
    assertThat(km.getServerAliases("EC", null)).containsExactly("ec-p256", "ec-p384");
  }

  @Test
  void issuers_serverLenient_clientStrict() {
    Principal[] p384Only = {new X500Principal("CN=p384")};
    Principal[] unknown = {new X500Principal("CN=someone else")};
    assertThat(km.chooseServerAlias("EC", p384Only, null)).isEqualTo("ec-p384");
    assertThat(km.chooseServerAlias("EC", unknown, null)).isEqualTo("ec-p256");
    assertThat(km.chooseClientAlias(new String[] {"EC"}, p384Only, null)).isEqualTo("ec-p384");
    assertThat(km.chooseClientAlias(new String[] {"EC"}, unknown, null)).isNull();
    assertThat(km.chooseClientAlias(new String[] {"RSASSA-PSS", "RSA"}, null, null))
        .isEqualTo("rsa2048");
  }

  @Test
  void engineVariants_noEngine_sameChoiceAsSocketVariants() {
    assertThat(km.chooseEngineServerAlias("EC", null, null)).isEqualTo("ec-p256");
    assertThat(km.chooseEngineServerAlias("DSA", null, null)).isNull();
    assertThat(km.chooseEngineClientAlias(new String[] {"DSA", "EC"}, null, null))
        .isEqualTo("ec-p256");
    assertThat(km.chooseEngineClientAlias(null, null, null)).isNull();
    assertThat(km.chooseClientAlias(new String[] {"DSA"}, null, null)).isNull();
    assertThat(km.getClientAliases("RSA", null)).containsExactly("rsa2048");
    assertThat(km.getClientAliases("EC", new Principal[0])).containsExactly("ec-p256", "ec-p384");
  }

  @Test
  void newSslContext_usesThisKeyManager() throws Exception {
    javax.net.ssl.SSLContext ctx = km.newSslContext(null);
    assertThat(ctx.getProtocol()).isEqualTo("TLS");
    assertThat(ctx.createSSLEngine().getSupportedProtocols()).contains("TLSv1.3", "TLSv1.2");
  }

  @Test
  void chooseServerAlias_peerOffersOnlyP384_p384KeyFirst() throws Exception {
    try (HandshakingSocket s = new HandshakingSocket("SHA384withECDSA")) {
      assertThat(km.chooseServerAlias("EC", null, s)).isEqualTo("ec-p384");
    }
    try (HandshakingSocket s = new HandshakingSocket("sha256withecdsa", "SHA384withECDSA")) {
      assertThat(km.chooseServerAlias("EC", null, s)).isEqualTo("ec-p256");
    }
  }

  @Test
  void chooseServerAlias_peerOffersNothingThatFits_configuredOrder() throws Exception {
    try (HandshakingSocket s = new HandshakingSocket("Ed25519")) {
      assertThat(km.chooseServerAlias("EC", null, s)).isEqualTo("ec-p256");
    }
    try (HandshakingSocket s = new HandshakingSocket()) {
      assertThat(km.chooseServerAlias("EC", null, s)).isEqualTo("ec-p256");
    }
    try (java.net.Socket plain = new java.net.Socket()) {
      assertThat(km.chooseServerAlias("EC", null, plain)).isEqualTo("ec-p256");
    }
  }

  @Test
  void chooseClientAlias_peerOffersOnlyP384_p384Key() throws Exception {
    try (HandshakingSocket s = new HandshakingSocket("SHA384withECDSA")) {
      assertThat(km.chooseClientAlias(new String[] {"EC"}, null, s)).isEqualTo("ec-p384");
    }
  }

  @Test
  void build_handlesWithChains_aliasesInOrder() throws Exception {
    KeyPair rsa = OfflineClients.rsa(2048);
    KeyholdPrivateKey handle = OfflineClients.handle(offline, "only", rsa.getPublic(), null);
    X509Certificate cert = OfflineClients.selfSigned(rsa, "CN=only");
    KeyholdKeyManager built = KeyholdKeyManager.builder(offline).key(handle, cert).build();
    assertThat(built.aliases()).containsExactly("only");
    assertThat(built.getCertificateChain("only")).containsExactly(cert);
    KeyholdKeyManager over =
        KeyholdKeyManager.over(
            dev.keyhold.client.jca.KeyholdKeyEntries.builder(offline).key(handle, cert).build());
    assertThat(over.getPrivateKey("only")).isSameAs(handle);
  }

  @Test
  void entries_keyAndChain_returned() {
    assertThat(km.getPrivateKey("ec-p384")).isInstanceOf(KeyholdPrivateKey.class);
    assertThat(km.getCertificateChain("rsa2048")).containsExactly(rsaCert);
    assertThat(km.getPrivateKey("nope")).isNull();
    assertThat(km.getCertificateChain(null)).isNull();
    assertThat(km.aliases()).containsExactly("rsa2048", "ec-p256", "ec-p384");
  }

  @Test
  void build_certificateOfAnotherKey_refused() throws Exception {
    KeyPair other = OfflineClients.rsa(2048);
    KeyholdPrivateKey handle = OfflineClients.handle(offline, "rsa2048", other.getPublic(), null);
    assertThatThrownBy(() -> KeyholdKeyManager.builder(offline).key(handle, rsaCert).build())
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("does not match");
  }
}
