package dev.keyhold.demo.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.demo.jsse.JsseDemoServer.ClientAuth;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The JSSE demo server with offloaded keys, against real {@code openssl s_client} and {@code curl}:
 * the HTTP response must arrive, name the expected key, protocol and suite, and the service's
 * counter must show exactly one remote operation of the expected kind.
 */
class JsseDemoServerIT {
  private static final String GET = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static TestKeyholdService svc;
  static KeyholdClient client;
  static JsseDemoServer server;
  static Path ca;

  @BeforeAll
  static void start() throws Exception {
    svc = TestKeyholdService.start();
    client = DemoPki.client(svc, "test-client", Duration.ofSeconds(5));
    ca = svc.caCert();
    KeyholdKeyManager km =
        KeyholdKeyManager.builder(client)
            .key("rsa2048", DemoPki.chainFor(svc, client, "rsa2048", false, dir))
            .key("ec-p256", DemoPki.chainFor(svc, client, "ec-p256", false, dir))
            .key("ec-p384", DemoPki.chainFor(svc, client, "ec-p384", false, dir))
            .build();
    server = JsseDemoServer.start(km, "127.0.0.1", 0, ClientAuth.NONE, null);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (client != null) {
      client.close();
    }
    if (svc != null) {
      svc.close();
    }
  }

  @ParameterizedTest(name = "openssl {0} {1}")
  @CsvSource({
    "-tls1_2, -cipher AES128-GCM-SHA256, rsa2048, TLSv1.2, TLS_RSA_WITH_AES_128_GCM_SHA256,"
        + " decrypt_premaster",
    "-tls1_2, -cipher ECDHE-RSA-AES128-GCM-SHA256, rsa2048, TLSv1.2,"
        + " TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, sign",
    "-tls1_2, -cipher ECDHE-ECDSA-AES128-GCM-SHA256, ec-p256, TLSv1.2,"
        + " TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, sign",
    "-tls1_3, -sigalgs rsa_pss_rsae_sha256, rsa2048, TLSv1.3, TLS_AES_256_GCM_SHA384, sign",
    "-tls1_3, -sigalgs ecdsa_secp256r1_sha256, ec-p256, TLSv1.3, TLS_AES_256_GCM_SHA384, sign",
    "-tls1_3, -sigalgs ecdsa_secp384r1_sha384, ec-p384, TLSv1.3, TLS_AES_256_GCM_SHA384, sign",
  })
  void opensslClient_offloadedKey_getsPageAndOneRemoteOperation(
      String version, String option, String key, String protocol, String suite, String op)
      throws Exception {
    long before = svc.metrics().count(op, "ok");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + server.port(),
                "-servername",
                "localhost",
                "-CAfile",
                ca.toString(),
                "-verify_return_error",
                "-ign_eof",
                version));
    cmd.addAll(List.of(option.split(" ")));
    Proc p = Proc.run(cmd, GET, PEER_TIMEOUT);

    assertThat(p.timedOut()).isFalse();
    assertThat(p.stdout())
        .contains("HTTP/1.1 200 OK")
        .contains("hello from Keyhold: key " + key + ", protocol " + protocol + ", suite " + suite);
    assertThat(p.stdout()).contains("Verify return code: 0 (ok)");
    assertThat(awaitCount(op, before + 1)).isEqualTo(before + 1);
  }

  @ParameterizedTest(name = "openssl TLS 1.2 ECDHE-RSA with {0}")
  @CsvSource({"RSA+SHA256, RSA", "RSA+SHA384, RSA", "rsa_pss_rsae_sha256, RSA-PSS"})
  void opensslClient_ecdheRsaSignatureScheme_pkcs1AndPssBothOffloaded(
      String sigalgs, String peerSignatureType) throws Exception {
    // OpenSSL 3 prefers RSA-PSS even in TLS 1.2; restricting sigalgs exercises PKCS#1 v1.5 too.
    long before = svc.metrics().count("sign", "ok");
    Proc p =
        Proc.run(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + server.port(),
                "-servername",
                "localhost",
                "-CAfile",
                ca.toString(),
                "-verify_return_error",
                "-ign_eof",
                "-tls1_2",
                "-cipher",
                "ECDHE-RSA-AES128-GCM-SHA256",
                "-sigalgs",
                sigalgs),
            GET,
            PEER_TIMEOUT);
    assertThat(p.stdout())
        .as(p.all())
        .contains(
            "hello from Keyhold: key rsa2048, protocol TLSv1.2, suite"
                + " TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assertThat(p.all()).containsPattern("(?m)^Peer signature type: " + peerSignatureType + "$");
    assertThat(awaitCount("sign", before + 1)).isEqualTo(before + 1);
  }

  @ParameterizedTest(name = "curl {0} {1}")
  @CsvSource({
    "--tls-max 1.2, AES128-GCM-SHA256, rsa2048, TLSv1.2, TLS_RSA_WITH_AES_128_GCM_SHA256,"
        + " decrypt_premaster",
    "--tls-max 1.2, ECDHE-RSA-AES128-GCM-SHA256, rsa2048, TLSv1.2,"
        + " TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, sign",
    "--tls-max 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, ec-p256, TLSv1.2,"
        + " TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, sign",
    "--tlsv1.3, '', ec-p256, TLSv1.3, TLS_AES_256_GCM_SHA384, sign",
  })
  void curl_offloadedKey_getsPageAndOneRemoteOperation(
      String version, String ciphers, String key, String protocol, String suite, String op)
      throws Exception {
    long before = svc.metrics().count(op, "ok");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "curl",
                "-sS",
                "--max-time",
                "20",
                "--cacert",
                ca.toString(),
                "--resolve",
                "localhost:" + server.port() + ":127.0.0.1"));
    cmd.addAll(List.of(version.split(" ")));
    if (!ciphers.isEmpty()) {
      cmd.addAll(List.of("--tlsv1.2", "--ciphers", ciphers));
    }
    cmd.add("https://localhost:" + server.port() + "/");
    Proc p = Proc.run(cmd, null, PEER_TIMEOUT);

    assertThat(p.exit()).as(p.all()).isZero();
    assertThat(p.stdout())
        .isEqualTo(
            "hello from Keyhold: key "
                + key
                + ", protocol "
                + protocol
                + ", suite "
                + suite
                + ", client (no certificate)\n");
    assertThat(awaitCount(op, before + 1)).isEqualTo(before + 1);
  }

  @Test
  void handshakeCount_afterPeers_matchesAndNoFailures() throws Exception {
    long okBefore = server.handshakesOk();
    long failedBefore = server.handshakesFailed();
    Proc p =
        Proc.run(
            List.of(
                "curl",
                "-sS",
                "--max-time",
                "20",
                "--cacert",
                ca.toString(),
                "--resolve",
                "localhost:" + server.port() + ":127.0.0.1",
                "https://localhost:" + server.port() + "/"),
            null,
            PEER_TIMEOUT);
    assertThat(p.exit()).as(p.all()).isZero();
    assertThat(p.stdout()).contains("hello from Keyhold");
    // One peer, one handshake: the server counted exactly it, and no failure.
    assertThat(server.handshakesOk()).isEqualTo(okBefore + 1);
    assertThat(server.handshakesFailed()).isEqualTo(failedBefore);
  }

  private static long awaitCount(String op, long expected) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    long v = svc.metrics().count(op, "ok");
    while (v < expected && System.nanoTime() < end) {
      Thread.sleep(10);
      v = svc.metrics().count(op, "ok");
    }
    return v;
  }
}
