package dev.keyhold.demo.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.netty.KeyholdServerTls;
import dev.keyhold.client.netty.KeyholdSslContexts;
import dev.keyhold.client.netty.OffloadedKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Netty demo server as the benchmark drives it: (d) keys offloaded to Keyhold, (e) a local key,
 * each answered over TLS 1.3, TLS 1.2 ECDHE and TLS 1.2 RSA key exchange by real curl/openssl
 * peers.
 */
class NettyDemoServerIT {
  private static TestKeyholdService svc;
  private static KeyholdClient client;

  @BeforeAll
  static void start() {
    svc = TestKeyholdService.start();
    client = TestClients.connect(svc, Duration.ofSeconds(10));
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

  static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream()
        .write(
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
    p.getOutputStream().close();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "TIMEOUT";
    }
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  static String curl(int port, String... opts) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-k", "--max-time", "20"));
    cmd.addAll(List.of(opts));
    cmd.add("https://127.0.0.1:" + port + "/");
    return run(cmd.toArray(new String[0]));
  }

  static String sClient(int port, String... opts) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-ign_eof"));
    cmd.addAll(List.of(opts));
    return run(cmd.toArray(new String[0]));
  }

  @Test
  void keyholdOffload_rsa2048_tls13Tls12EcdheAndRsaKx() throws Exception {
    SslContext ssl = KeyholdSslContexts.forServer(client, "rsa2048");
    try (NettyDemoServer.Handle server = NettyDemoServer.start(ssl, "127.0.0.1", 0, 1)) {
      long signs = svc.metrics().count("sign", "ok");
      long decrypts = svc.metrics().count("decrypt_premaster", "ok");
      assertThat(curl(server.port(), "--tlsv1.3")).contains("TLSv1.3 TLS_AES_");
      assertThat(
              curl(
                  server.port(),
                  "--tlsv1.2",
                  "--tls-max",
                  "1.2",
                  "--ciphers",
                  "ECDHE-RSA-AES128-GCM-SHA256"))
          .contains("TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(
              curl(
                  server.port(), "--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-GCM-SHA256"))
          .contains("TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(svc.metrics().count("sign", "ok")).isGreaterThanOrEqualTo(signs + 2);
      assertThat(svc.metrics().count("decrypt_premaster", "ok")).isGreaterThan(decrypts);
      assertThat(server.handshakesCompleted()).isEqualTo(3);
      assertThat(server.responses()).isEqualTo(3);
    } finally {
      ReferenceCountUtil.release(ssl);
    }
  }

  /** Baseline (e) of the benchmark: the same server with a local key file, no Keyhold involved. */
  @Test
  void localKey_rsa2048_servesSamePage() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    LocalPki pki = svc.hsm().pki().loadOrCreateCa();
    var cert = pki.issueFor("localhost", kp.getPublic(), List.of("localhost"), false);
    SslContext ssl =
        SslContextBuilder.forServer(kp.getPrivate(), cert, pki.caCertificate())
            .sslProvider(SslProvider.OPENSSL)
            .ciphers(KeyholdSslContexts.DEFAULT_SERVER_CIPHERS)
            .build();
    try (NettyDemoServer.Handle server = NettyDemoServer.start(ssl, "127.0.0.1", 0, 2)) {
      assertThat(curl(server.port(), "--tlsv1.3"))
          .contains("Hello from Keyhold (Netty/BoringSSL): TLSv1.3");
      assertThat(
              curl(
                  server.port(), "--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-GCM-SHA256"))
          .contains("TLS_RSA_WITH_AES_128_GCM_SHA256");
    } finally {
      ReferenceCountUtil.release(ssl);
    }
  }

  /** An RSA and an EC key on one port: each kind of client gets a key it can use. */
  @Test
  void keyholdServerTls_rsaAndEcKeys_everyClientKindServed() throws Exception {
    List<OffloadedKey> keys =
        List.of(OffloadedKey.fetch(client, "rsa2048"), OffloadedKey.fetch(client, "ec-p256"));
    try (KeyholdServerTls tls = KeyholdServerTls.create(client, keys, b -> b);
        NettyDemoServer.Handle server =
            NettyDemoServer.start(ch -> tls.newHandler(), "127.0.0.1", 0, 1)) {
      long decrypts = svc.metrics().count("decrypt_premaster", "ok");
      String tls13 = sClient(server.port(), "-tls1_3");
      String ecdsa = sClient(server.port(), "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
      String ecdheRsa = sClient(server.port(), "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
      String rsaKx = sClient(server.port(), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
      assertThat(line(tls13))
          .contains("TLSv1.3")
          .contains("CN = rsa2048"); // first key in preference order
      assertThat(line(ecdsa))
          .contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
          .contains("CN = ec-p256");
      assertThat(line(ecdheRsa))
          .contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
          .contains("CN = rsa2048");
      assertThat(line(rsaKx)).contains("TLS_RSA_WITH_AES_128_GCM_SHA256").contains("CN = rsa2048");
      // The RSA key exchange went through DecryptPremaster with the ClientHello's own version.
      assertThat(svc.metrics().count("decrypt_premaster", "ok")).isGreaterThan(decrypts);
    }
  }

  private static String line(String out) {
    int i = out.indexOf("Hello from Keyhold");
    String peer =
        out.lines()
            .filter(l -> l.contains("Peer signature type") || l.startsWith("subject="))
            .reduce("", (a, b) -> a + " | " + b);
    return (i < 0 ? "FAILED" : out.substring(i, out.indexOf('\n', i))) + peer;
  }
}
