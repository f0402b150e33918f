package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.client.jca.KeyholdPrivateKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.client.testing.SilentListener;
import dev.keyhold.service.testing.TestKeyholdService;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Full JSSE handshakes between two JDK peers, where the server's (or the client's) private-key step
 * runs in the test HSM through Keyhold. Each handshake must cost exactly one remote operation of
 * the expected kind.
 */
class KeyholdJsseHandshakeIT {
  static TestKeyholdService svc;
  static KeyholdClient client;

  @BeforeAll
  static void start() {
    svc = TestKeyholdService.start();
    client = TlsPeers.client(svc, "test-client", Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (svc != null) {
      svc.close();
    }
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
    "rsa2048, TLSv1.2, TLS_RSA_WITH_AES_128_GCM_SHA256, decrypt_premaster",
    "rsa3072, TLSv1.2, TLS_RSA_WITH_AES_128_GCM_SHA256, decrypt_premaster",
    "rsa2048, TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, sign",
    "ec-p256, TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, sign",
    "ec-p384, TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, sign",
    "rsa2048, TLSv1.3, TLS_AES_128_GCM_SHA256, sign",
    "rsa3072, TLSv1.3, TLS_AES_256_GCM_SHA384, sign",
    "ec-p256, TLSv1.3, TLS_AES_128_GCM_SHA256, sign",
    "ec-p384, TLSv1.3, TLS_AES_128_GCM_SHA256, sign",
    "ec-p521, TLSv1.3, TLS_CHACHA20_POLY1305_SHA256, sign",
  })
  void handshake_offloadedServerKey_completesWithOneRemoteOperation(
      String key, String protocol, String suite, String op) throws Exception {
    KeyholdKeyManager km = KeyholdKeyManager.create(client, key);
    X509Certificate leaf = km.getCertificateChain(key)[0];
    String other = op.equals("sign") ? "decrypt_premaster" : "sign";
    long before = svc.metrics().count(op, "ok");
    long otherBefore = svc.metrics().count(other, "ok");
    try (TlsPeers.Server server = new TlsPeers.Server(TlsPeers.context(km, null), false, false)) {
      String[] facts =
          TlsPeers.connect(
              TlsPeers.context(null, TlsPeers.trusting(leaf)), server.port(), protocol, suite);
      assertThat(facts).containsExactly(protocol, suite, "ok\n");
    }
    assertThat(TlsPeers.awaitCount(() -> svc.metrics().count(op, "ok"), before + 1))
        .isEqualTo(before + 1);
    assertThat(svc.metrics().count(other, "ok")).isEqualTo(otherBefore);
  }

  @Test
  void handshake_clientKeyInHsm_clientCertificateVerifySignedRemotely() throws Exception {
    // Both ends offload: the server decrypts the pre-master remotely, the client signs its
    // CertificateVerify remotely.
    KeyholdKeyManager serverKm = KeyholdKeyManager.create(client, "rsa2048");
    KeyholdKeyManager clientKm = KeyholdKeyManager.create(client, "ec-p256");
    X509Certificate serverLeaf = serverKm.getCertificateChain("rsa2048")[0];
    X509Certificate clientLeaf = clientKm.getCertificateChain("ec-p256")[0];
    long signs = svc.metrics().count("sign", "ok");
    long decrypts = svc.metrics().count("decrypt_premaster", "ok");
    try (TlsPeers.Server server =
        new TlsPeers.Server(
            TlsPeers.context(serverKm, TlsPeers.trusting(clientLeaf)), true, false)) {
      String[] facts =
          TlsPeers.connect(
              TlsPeers.context(clientKm, TlsPeers.trusting(serverLeaf)),
              server.port(),
              "TLSv1.2",
              "TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(facts[2]).isEqualTo("ok\n");
      assertThat(server.failures).isEmpty();
    }
    assertThat(TlsPeers.awaitCount(() -> svc.metrics().count("sign", "ok"), signs + 1))
        .isEqualTo(signs + 1);
    assertThat(
            TlsPeers.awaitCount(() -> svc.metrics().count("decrypt_premaster", "ok"), decrypts + 1))
        .isEqualTo(decrypts + 1);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "rsa2048, TLS_RSA_WITH_AES_128_GCM_SHA256",
    "rsa2048, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "rsa2048, TLS_AES_128_GCM_SHA256",
  })
  void handshake_serviceRefusesKey_failsWithAlertNotBadRecordMac(String key, String suite)
      throws Exception {
    // limited-client may not use RSA keys at all: the handle is built with test-client's
    // public facts, but operations go through limited-client and are refused (NOT_FOUND).
    try (KeyholdClient limited = TlsPeers.client(svc, "limited-client", Duration.ofSeconds(5))) {
      KeyholdPrivateKey handle = KeyholdPrivateKey.of(limited, client.getKey(key));
      X509Certificate[] chain = KeyholdKeyManager.create(client, key).getCertificateChain(key);
      KeyholdKeyManager km = KeyholdKeyManager.builder(limited).key(handle, chain).build();
      String protocol = suite.startsWith("TLS_AES") ? "TLSv1.3" : "TLSv1.2";
      try (TlsPeers.Server server = new TlsPeers.Server(TlsPeers.context(km, null), false, false)) {
        long t0 = System.nanoTime();
        assertThatThrownBy(
                () ->
                    TlsPeers.connect(
                        TlsPeers.context(null, TlsPeers.trusting(chain[0])),
                        server.port(),
                        protocol,
                        suite))
            .isInstanceOf(SSLException.class)
            .satisfies(
                e -> assertThat(String.valueOf(e.getMessage())).doesNotContain("bad_record_mac"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        Throwable serverSide = server.failures.poll(10, TimeUnit.SECONDS);
        assertThat(serverSide).isNotNull();
        assertThat(rootKeyhold(serverSide))
            .isNotNull()
            .extracting(KeyholdException::isUnavailable)
            .isEqualTo(false);
      }
    }
  }

  @Test
  void handshake_serviceAcceptsButNeverAnswers_alertWithinDeadlineTimesAttempts() throws Exception {
    // The key's public facts come from the real service; its private-key step goes to a target
    // that accepts TCP and never answers, so only the client's deadline can end the wait.
    Duration deadline = Duration.ofSeconds(2);
    int attempts = 2;
    X509Certificate[] chain =
        KeyholdKeyManager.create(client, "ec-p256").getCertificateChain("ec-p256");
    try (SilentListener silent = new SilentListener();
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
      KeyholdPrivateKey handle = KeyholdPrivateKey.of(hung, client.getKey("ec-p256"));
      KeyholdKeyManager km = KeyholdKeyManager.builder(hung).key(handle, chain).build();
      try (TlsPeers.Server server = new TlsPeers.Server(TlsPeers.context(km, null), false, false)) {
        long t0 = System.nanoTime();
        assertThatThrownBy(
                () ->
                    TlsPeers.connect(
                        TlsPeers.context(null, TlsPeers.trusting(chain[0])),
                        server.port(),
                        "TLSv1.3",
                        "TLS_AES_128_GCM_SHA256"))
            .isInstanceOf(SSLException.class);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(took)
            .as("alert within deadline x attempts plus a small margin")
            .isLessThan(deadline.multipliedBy(attempts).plusSeconds(2));
        assertThat(silent.accepted()).as("the client reached the silent target").isPositive();
        Throwable serverSide = server.failures.poll(10, TimeUnit.SECONDS);
        assertThat(rootKeyhold(serverSide)).as("the server's failure is Keyhold's").isNotNull();
      }
    }
  }

  static KeyholdException rootKeyhold(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof KeyholdException ke) {
        return ke;
      }
    }
    return null;
  }
}
