package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.jca.KeyholdPrivateKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mutual TLS with the client's key in the HSM, against a strict OpenSSL server ({@code s_server
 * -Verify 1 -verify_return_error}): a certificate from {@code keys certify --usage client} (or
 * {@code both}) is accepted; one for server use only is refused.
 */
class ClientCertificateMtlsIT {

  @ParameterizedTest(name = "{0} {1} accepted={2}")
  @CsvSource({
    "ec-p256, CLIENT, true",
    "rsa2048, BOTH, true",
    "ec-p256, SERVER, false",
  })
  void hsmClientKey_strictOpensslServer_acceptsOnlyClientAuthCertificates(
      String key, LocalPki.Usage usage, boolean accepted) throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start();
        KeyholdClient client = TlsPeers.client(svc, "test-client", Duration.ofSeconds(5))) {
      LocalPki ca = svc.pki().loadOrCreateCa();
      KeyholdPrivateKey handle = KeyholdPrivateKey.fetch(client, key);
      X509Certificate cert =
          ca.issueFor(key, handle.publicKey(), List.of("app.example"), List.of(), usage);
      KeyholdKeyManager km =
          KeyholdKeyManager.builder(client).key(handle, cert, ca.caCertificate()).build();
      SSLContext ctx = TlsPeers.context(km, TlsPeers.trusting(ca.caCertificate()));
      long signs = svc.metrics().count("sign", "ok");

      Path pki = svc.caCert().getParent();
      Process server =
          new ProcessBuilder(
                  "openssl",
                  "s_server",
                  "-accept",
                  "127.0.0.1:0",
                  "-cert",
                  svc.pki().cert("server").toString(),
                  "-key",
                  svc.pki().key("server").toString(),
                  "-CAfile",
                  svc.caCert().toString(),
                  "-Verify",
                  "1",
                  "-verify_return_error",
                  "-www")
              .directory(pki.toFile())
              .redirectErrorStream(true)
              .start();
      try {
        int port = awaitAccept(server);
        String outcome;
        try {
          outcome = get(ctx, port);
        } catch (IOException e) {
          outcome = "refused: " + e;
        }
        if (accepted) {
          assertThat(outcome).contains("200 ok");
          assertThat(TlsPeers.awaitCount(() -> svc.metrics().count("sign", "ok"), signs + 1))
              .isEqualTo(signs + 1);
        } else {
          assertThat(outcome).doesNotContain("200 ok");
        }
      } finally {
        server.destroy();
        server.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Reads s_server's output until it says it accepts connections ({@code ACCEPT 127.0.0.1:PORT}: it
   * was given port 0) and returns the port it bound.
   */
  private static int awaitAccept(Process p) throws IOException {
    InputStream in = p.getInputStream();
    StringBuilder seen = new StringBuilder();
    Pattern accept = Pattern.compile("(?m)^ACCEPT 127\\.0\\.0\\.1:(\\d+)\\r?\\n");
    int c;
    while ((c = in.read()) >= 0) {
      seen.append((char) c);
      Matcher m = accept.matcher(seen);
      if (c == '\n' && m.find()) {
        Thread t = new Thread(() -> drain(in), "s_server-output");
        t.setDaemon(true);
        t.start();
        return Integer.parseInt(m.group(1));
      }
    }
    throw new IOException("openssl s_server did not start: " + seen);
  }

  private static void drain(InputStream in) {
    try {
      in.transferTo(OutputStream.nullOutputStream());
    } catch (IOException e) {
      // the server ended
    }
  }

  private static String get(SSLContext ctx, int port) throws IOException {
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(15_000);
      s.setEnabledProtocols(new String[] {"TLSv1.3"});
      s.startHandshake();
      s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
