package dev.keyhold.demo.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.demo.jsse.JsseDemoServer.ClientAuth;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Client authentication both ways: the demo server in need/want mode against openssl clients, and a
 * Java client whose client key lives in the HSM (its CertificateVerify is signed through Keyhold)
 * against {@code openssl s_server -Verify 1} and against the demo in need mode.
 */
class ClientAuthIT {
  private static final String GET = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static TestKeyholdService svc;
  static KeyholdClient client;
  static KeyholdKeyManager serverKm;
  static KeyholdKeyManager hsmClientKm;
  static Path ca;

  @BeforeAll
  static void start() throws Exception {
    svc = TestKeyholdService.start();
    client = DemoPki.client(svc, "test-client", Duration.ofSeconds(5));
    ca = svc.caCert();
    serverKm =
        KeyholdKeyManager.builder(client)
            .key("rsa2048", DemoPki.chainFor(svc, client, "rsa2048", false, dir))
            .key("ec-p256", DemoPki.chainFor(svc, client, "ec-p256", false, dir))
            .build();
    // The client identity: the HSM's P-384 key with a CA-signed clientAuth certificate.
    hsmClientKm =
        KeyholdKeyManager.builder(client)
            .key("ec-p384", DemoPki.chainFor(svc, client, "ec-p384", true, dir))
            .build();
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

  private static List<String> sClient(int port, String... extra) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "localhost",
                "-CAfile",
                ca.toString(),
                "-ign_eof"));
    cmd.addAll(List.of(extra));
    return cmd;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void needMode_clientWithoutCertificate_rejectedWithAlert(String version) throws Exception {
    try (JsseDemoServer server =
        JsseDemoServer.start(serverKm, "127.0.0.1", 0, ClientAuth.NEED, ca)) {
      Proc p = Proc.run(sClient(server.port(), version), GET, PEER_TIMEOUT);
      assertThat(p.timedOut()).isFalse();
      assertThat(p.stdout()).doesNotContain("hello from Keyhold");
      // TLS 1.2: bad_certificate/handshake_failure during the handshake; TLS 1.3:
      // certificate_required after it.
      assertThat(p.all())
          .containsPattern("alert (bad certificate|handshake failure|certificate required)");
      // In TLS 1.3 the client may finish before the server has processed its empty Certificate:
      // wait (bounded) for the server's side of the story instead of racing it.
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      while (server.handshakesFailed() == 0 && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(server.handshakesFailed()).isEqualTo(1);
    }
  }

  @Test
  void needMode_opensslClientWithCertificate_accepted() throws Exception {
    try (JsseDemoServer server =
        JsseDemoServer.start(serverKm, "127.0.0.1", 0, ClientAuth.NEED, ca)) {
      Proc p =
          Proc.run(
              sClient(
                  server.port(),
                  "-cert",
                  svc.clientCert("test-client").toString(),
                  "-key",
                  svc.clientKey("test-client").toString()),
              GET,
              PEER_TIMEOUT);
      assertThat(p.stdout())
          .as(p.all())
          .contains("hello from Keyhold")
          .contains("client CN=test-client");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void wantMode_clientWithoutCertificate_accepted(String version) throws Exception {
    try (JsseDemoServer server =
        JsseDemoServer.start(serverKm, "127.0.0.1", 0, ClientAuth.WANT, ca)) {
      Proc p = Proc.run(sClient(server.port(), version), GET, PEER_TIMEOUT);
      assertThat(p.stdout())
          .as(p.all())
          .contains("hello from Keyhold")
          .contains("client (no certificate)");
    }
  }

  @Test
  void needMode_javaClientWithHsmKey_acceptedAndClientSignatureRemote() throws Exception {
    SSLContext clientCtx = hsmClientKm.newSslContext(JsseDemoServer.trustManagers(ca));
    try (JsseDemoServer server =
        JsseDemoServer.start(serverKm, "127.0.0.1", 0, ClientAuth.NEED, ca)) {
      long signs = svc.metrics().count("sign", "ok");
      long decrypts = svc.metrics().count("decrypt_premaster", "ok");
      // RSA key exchange: the server's step is a decryption, so the one signature is the client's.
      String page =
          JavaTlsClient.get(clientCtx, server.port(), "TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(page)
          .contains("hello from Keyhold: key rsa2048")
          .contains("client CN=hsm-ec-p384");
      assertThat(awaitCount("sign", signs + 1)).isEqualTo(signs + 1);
      assertThat(awaitCount("decrypt_premaster", decrypts + 1)).isEqualTo(decrypts + 1);

      String page13 = JavaTlsClient.get(clientCtx, server.port(), "TLSv1.3", null);
      assertThat(page13).contains("protocol TLSv1.3").contains("client CN=hsm-ec-p384");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void opensslServerVerify_javaClientWithHsmKey_accepted(String protocol) throws Exception {
    Path[] local = DemoPki.localServer(svc, dir);
    Process sServer =
        Proc.spawn(
            List.of(
                "openssl",
                "s_server",
                "-accept",
                "127.0.0.1:0",
                "-cert",
                local[0].toString(),
                "-key",
                local[1].toString(),
                "-CAfile",
                ca.toString(),
                "-Verify",
                "1",
                "-verify_return_error",
                "-www"));
    StringBuilder log = new StringBuilder();
    CompletableFuture<Void> reader =
        CompletableFuture.runAsync(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(sServer.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (log) {
                    log.append(line).append('\n');
                  }
                }
              } catch (java.io.IOException ignored) {
                // process ended
              }
            });
    try {
      int port = awaitAccept(sServer, log);
      long signs = svc.metrics().count("sign", "ok");
      String page =
          JavaTlsClient.get(hsmClientKm.newSslContext(JavaTrust.of(ca)), port, protocol, null);
      assertThat(page).contains("200 ok");
      assertThat(awaitCount("sign", signs + 1)).isEqualTo(signs + 1);
    } finally {
      sServer.destroy();
      if (!sServer.waitFor(5, TimeUnit.SECONDS)) {
        sServer.destroyForcibly();
      }
      reader.get(5, TimeUnit.SECONDS);
    }
  }

  /**
   * The port s_server bound (it was given port 0): from its {@code ACCEPT 127.0.0.1:PORT} line,
   * which it prints once it listens.
   */
  private static int awaitAccept(Process sServer, StringBuilder log) throws InterruptedException {
    Pattern accept = Pattern.compile("(?m)^ACCEPT 127\\.0\\.0\\.1:(\\d+)$");
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < end) {
      synchronized (log) {
        Matcher m = accept.matcher(log);
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      if (!sServer.isAlive()) {
        break;
      }
      Thread.sleep(50);
    }
    synchronized (log) {
      throw new AssertionError("openssl s_server did not say it accepts:\n" + log);
    }
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

  /** Trust managers for a PEM CA file. */
  static final class JavaTrust {
    static javax.net.ssl.TrustManager[] of(Path pem) throws Exception {
      return JsseDemoServer.trustManagers(pem);
    }
  }
}
