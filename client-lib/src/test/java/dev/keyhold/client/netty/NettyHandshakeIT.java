package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real peers ({@code openssl s_client}, {@code curl}) against a Netty/BoringSSL server whose keys
 * stay in the HSM behind a real Keyhold service: every key-exchange and signature family BoringSSL
 * can ask for, each proven by an HTTP response and by the service's own operation counter.
 */
class NettyHandshakeIT {
  private static TestKeyholdService svc;
  private static KeyholdClient client;
  private static final Map<String, SslContext> contexts = new HashMap<>();
  private static final Map<String, TestHttpsServer> servers = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    svc = TestKeyholdService.start();
    client = TestClients.connect(svc, java.time.Duration.ofSeconds(10));
    for (String key : new String[] {"rsa2048", "rsa3072", "ec-p256", "ec-p384", "ec-p521"}) {
      SslContext ctx = KeyholdSslContexts.forServer(client, key);
      contexts.put(key, ctx);
      servers.put(key, new TestHttpsServer(ctx, 1));
    }
  }

  @AfterAll
  static void stop() {
    servers.values().forEach(TestHttpsServer::close);
    contexts.values().forEach(ReferenceCountUtil::release);
    if (client != null) {
      client.close();
    }
    if (svc != null) {
      svc.close();
    }
  }

  private static int port(String key) {
    return servers.get(key).port();
  }

  private static long signs() {
    return svc.metrics().count("sign", "ok");
  }

  private static long decrypts() {
    return svc.metrics().count("decrypt_premaster", "ok");
  }

  private static void assertServed(Peers.Result r, String protocol, String suite) {
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("Hello from Keyhold: " + protocol + " " + suite);
  }

  @Test
  void opensslTls12RsaKeyExchange_rsa2048_decryptedByKeyhold() throws Exception {
    long before = decrypts();
    Peers.Result r = Peers.sClient(port("rsa2048"), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
    assertServed(r, "TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256");
    assertThat(decrypts()).isGreaterThan(before);
  }

  @Test
  void curlTls12RsaKeyExchange_rsa3072_decryptedByKeyhold() throws Exception {
    long before = decrypts();
    Peers.Result r =
        Peers.curl(
            port("rsa3072"),
            "-k",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--ciphers",
            "AES128-GCM-SHA256");
    assertServed(r, "TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256");
    assertThat(decrypts()).isGreaterThan(before);
  }

  @Test
  void opensslTls12EcdheRsa_pssAndPkcs1_signedByKeyhold() throws Exception {
    // OpenSSL 3 prefers rsa_pss_rsae_sha256 even in TLS 1.2; the -sigalgs runs pin PKCS#1 too.
    for (String sigalgs :
        new String[] {
          "rsa_pss_rsae_sha256:rsa_pkcs1_sha256",
          "RSA+SHA256",
          "RSA+SHA384",
          "RSA+SHA512",
          "rsa_pss_rsae_sha512"
        }) {
      long before = signs();
      Peers.Result r =
          Peers.sClient(
              port("rsa2048"),
              "-tls1_2",
              "-cipher",
              "ECDHE-RSA-AES128-GCM-SHA256",
              "-sigalgs",
              sigalgs);
      assertServed(r, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(signs()).as(sigalgs).isGreaterThan(before);
    }
  }

  @Test
  void curlTls12EcdheRsa_signedByKeyhold() throws Exception {
    long before = signs();
    Peers.Result r =
        Peers.curl(
            port("rsa2048"),
            "-k",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--ciphers",
            "ECDHE-RSA-AES128-GCM-SHA256");
    assertServed(r, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assertThat(signs()).isGreaterThan(before);
  }

  @Test
  void opensslTls12EcdheEcdsa_p256_signedByKeyhold() throws Exception {
    long before = signs();
    Peers.Result r =
        Peers.sClient(port("ec-p256"), "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
    assertServed(r, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assertThat(signs()).isGreaterThan(before);
  }

  @Test
  void curlTls12EcdheEcdsa_p384_signedByKeyhold() throws Exception {
    long before = signs();
    Peers.Result r =
        Peers.curl(
            port("ec-p384"),
            "-k",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--ciphers",
            "ECDHE-ECDSA-AES256-GCM-SHA384");
    assertServed(r, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    assertThat(signs()).isGreaterThan(before);
  }

  /**
   * TLS 1.2 lets any ECDSA hash go with any curve: the curve part of SSL_SIGN_* must be ignored.
   */
  @Test
  void opensslTls12Ecdsa_hashOtherThanCurve_signedWithKeyCurve() throws Exception {
    String[][] cases = {
      {"ec-p384", "ECDSA+SHA256"},
      {"ec-p256", "ECDSA+SHA512"},
      {"ec-p521", "ECDSA+SHA256"},
      {"ec-p256", "ECDSA+SHA384"}
    };
    for (String[] c : cases) {
      long before = signs();
      Peers.Result r =
          Peers.sClient(
              port(c[0]), "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-sigalgs", c[1]);
      assertServed(r, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
      assertThat(signs()).as(c[0] + " " + c[1]).isGreaterThan(before);
    }
  }

  @Test
  void opensslTls13RsaPss_signedByKeyhold() throws Exception {
    for (String[] c :
        new String[][] {
          {"rsa2048", "rsa_pss_rsae_sha256"},
          {"rsa3072", "rsa_pss_rsae_sha384"},
          {"rsa2048", "rsa_pss_rsae_sha512"}
        }) {
      long before = signs();
      Peers.Result r = Peers.sClient(port(c[0]), "-tls1_3", "-sigalgs", c[1]);
      assertServed(r, "TLSv1.3", "TLS_AES_");
      assertThat(r.output()).contains("Peer signature type: RSA-PSS");
      assertThat(signs()).as(c[1]).isGreaterThan(before);
    }
  }

  @Test
  void curlTls13RsaPss_signedByKeyhold() throws Exception {
    long before = signs();
    Peers.Result r = Peers.curl(port("rsa2048"), "-k", "--tlsv1.3");
    assertServed(r, "TLSv1.3", "TLS_AES_");
    assertThat(signs()).isGreaterThan(before);
  }

  @Test
  void opensslTls13Ecdsa_p256p384p521_signedByKeyhold() throws Exception {
    for (String[] c :
        new String[][] {
          {"ec-p256", "ecdsa_secp256r1_sha256"},
          {"ec-p384", "ecdsa_secp384r1_sha384"},
          {"ec-p521", "ecdsa_secp521r1_sha512"}
        }) {
      long before = signs();
      Peers.Result r = Peers.sClient(port(c[0]), "-tls1_3", "-sigalgs", c[1]);
      assertServed(r, "TLSv1.3", "TLS_AES_");
      assertThat(r.output()).contains("Peer signature type: ECDSA");
      assertThat(signs()).as(c[1]).isGreaterThan(before);
    }
  }

  @Test
  void curlTls13Ecdsa_p256AndP384_signedByKeyhold() throws Exception {
    for (String key : new String[] {"ec-p256", "ec-p384"}) {
      long before = signs();
      Peers.Result r = Peers.curl(port(key), "-k", "--tlsv1.3");
      assertServed(r, "TLSv1.3", "TLS_AES_");
      assertThat(signs()).as(key).isGreaterThan(before);
    }
  }

  @Test
  void opensslTls12Sha1Only_refused_handshakeFails() throws Exception {
    long entered = svc.metrics().count("sign", "ok");
    Peers.Result r =
        Peers.sClient(
            port("rsa2048"),
            "-tls1_2",
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
            "-sigalgs",
            "RSA+SHA1");
    assertThat(r.exit()).as(r.output()).isNotZero();
    assertThat(r.output()).doesNotContain("Hello from Keyhold");
    assertThat(svc.metrics().count("sign", "ok")).isEqualTo(entered);
    // The server still serves the next client.
    assertServed(Peers.sClient(port("rsa2048"), "-tls1_3"), "TLSv1.3", "TLS_AES_");
  }

  /** A resumed session costs no Keyhold operation (DESIGN §5). */
  @Test
  void opensslTls12Resumption_secondHandshake_noKeyholdCall() throws Exception {
    java.nio.file.Path sess = java.nio.file.Files.createTempFile("keyhold-sess", ".pem");
    try {
      Peers.Result first = Peers.sClient(port("ec-p256"), "-tls1_2", "-sess_out", sess.toString());
      assertServed(first, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
      long signs = signs();
      Peers.Result again = Peers.sClient(port("ec-p256"), "-tls1_2", "-sess_in", sess.toString());
      assertServed(again, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
      assertThat(again.output()).contains("Reused, TLSv1.2");
      assertThat(signs()).isEqualTo(signs);
    } finally {
      java.nio.file.Files.deleteIfExists(sess);
    }
  }
}
