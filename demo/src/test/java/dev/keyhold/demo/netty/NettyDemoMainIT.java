package dev.keyhold.demo.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The demo's command line, end to end: parse, start against a real service, serve curl, stop. */
class NettyDemoMainIT {

  @Test
  void commandLine_twoKeysRequireClientCerts_servesCurlWithClientCert() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      NettyDemoMain main = new NettyDemoMain();
      new CommandLine(main)
          .parseArgs(
              "--keyhold-target", svc.target(),
              "--authority", "localhost",
              "--ca", svc.caCert().toString(),
              "--cert", svc.clientCert("test-client").toString(),
              "--key", svc.clientKey("test-client").toString(),
              "--deadline", "10s",
              "--key-name", "rsa2048",
              "--key-name", "ec-p256",
              "--listen", "127.0.0.1:0",
              "--client-auth", "need",
              "--client-ca", svc.caCert().toString());
      try (NettyDemoMain.Running running = main.start()) {
        int port = running.server().port();
        String withCert =
            NettyDemoServerIT.curl(
                port,
                "--tlsv1.3",
                "--cert",
                svc.clientCert("test-client").toString(),
                "--key",
                svc.clientKey("test-client").toString());
        assertThat(withCert).contains("Hello from Keyhold (Netty/BoringSSL): TLSv1.3");
        String rsaKx =
            NettyDemoServerIT.curl(
                port,
                "--tlsv1.2",
                "--tls-max",
                "1.2",
                "--ciphers",
                "AES128-GCM-SHA256",
                "--cert",
                svc.clientCert("test-client").toString(),
                "--key",
                svc.clientKey("test-client").toString());
        assertThat(rsaKx).contains("TLS_RSA_WITH_AES_128_GCM_SHA256");
        long failedBefore = running.server().handshakesFailed();
        String withoutCert = NettyDemoServerIT.curl(port, "--tlsv1.3");
        // Refused for the missing certificate (TLS 1.3 certificate_required alert), not for any
        // other reason, and the server counted exactly that one failed handshake.
        assertThat(withoutCert)
            .doesNotContain("Hello from Keyhold")
            .contains("certificate required");
        long end = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (running.server().handshakesFailed() < failedBefore + 1) {
          assertThat(System.nanoTime()).as("failure counted").isLessThan(end);
          Thread.sleep(10); // polling a counter the event loop bumps after the alert
        }
        assertThat(running.server().handshakesFailed()).isEqualTo(failedBefore + 1);
      }
    }
  }

  /**
   * {@code --client-auth want}: a real handshake with and without a client certificate both get the
   * page; a certificate from a CA the server does not trust is still refused.
   */
  @Test
  void clientAuthWant_withAndWithoutClientCert_servedUntrustedCertRefused(@TempDir Path dir)
      throws Exception {
    Path badKey = dir.resolve("bad.key");
    Path badCert = dir.resolve("bad.pem");
    String gen =
        NettyDemoServerIT.run(
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=stranger",
            "-days",
            "1",
            "-keyout",
            badKey.toString(),
            "-out",
            badCert.toString());
    assertThat(badCert).as(gen).exists();
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      NettyDemoMain main = new NettyDemoMain();
      new CommandLine(main)
          .parseArgs(
              "--keyhold-target",
              svc.target(),
              "--authority",
              "localhost",
              "--ca",
              svc.caCert().toString(),
              "--cert",
              svc.clientCert("test-client").toString(),
              "--key",
              svc.clientKey("test-client").toString(),
              "--deadline",
              "10s",
              "--key-name",
              "ec-p256",
              "--listen",
              "127.0.0.1:0",
              "--client-auth",
              "want",
              "--client-ca",
              svc.caCert().toString());
      try (NettyDemoMain.Running running = main.start()) {
        int port = running.server().port();
        assertThat(NettyDemoServerIT.curl(port, "--tlsv1.3"))
            .contains("Hello from Keyhold (Netty/BoringSSL): TLSv1.3");
        assertThat(
                NettyDemoServerIT.curl(
                    port,
                    "--tlsv1.3",
                    "--cert",
                    svc.clientCert("test-client").toString(),
                    "--key",
                    svc.clientKey("test-client").toString()))
            .contains("Hello from Keyhold (Netty/BoringSSL): TLSv1.3");
        assertThat(
                NettyDemoServerIT.curl(
                    port, "--tlsv1.3", "--cert", badCert.toString(), "--key", badKey.toString()))
            .doesNotContain("Hello from Keyhold")
            // Netty/BoringSSL report a trust-manager rejection as an internal_error alert.
            .contains("alert");
        assertThat(running.server().handshakesCompleted()).isEqualTo(2);
      }
    }
  }
}
