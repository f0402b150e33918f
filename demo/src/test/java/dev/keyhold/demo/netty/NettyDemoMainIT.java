package dev.keyhold.demo.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import org.junit.jupiter.api.Test;
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
        String withoutCert = NettyDemoServerIT.curl(port, "--tlsv1.3");
        assertThat(withoutCert).doesNotContain("Hello from Keyhold");
      }
    }
  }
}
