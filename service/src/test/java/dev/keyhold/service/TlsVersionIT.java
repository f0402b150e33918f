package dev.keyhold.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The service speaks TLS 1.3 only: a TLS 1.2 client with a valid client certificate is refused with
 * a protocol_version alert, while the same client on TLS 1.3 completes the handshake. OpenSSL's
 * s_client is the peer, so no Keyhold or JDK TLS code is on the client side.
 */
class TlsVersionIT {
  private static TestKeyholdService svc;

  @BeforeAll
  static void start() {
    svc = TestKeyholdService.start();
  }

  @AfterAll
  static void stop() {
    svc.close();
  }

  private static String[] sClient(String version) throws Exception {
    Process p =
        new ProcessBuilder(
                List.of(
                    "openssl",
                    "s_client",
                    version,
                    "-connect",
                    svc.target(),
                    "-servername",
                    "localhost",
                    "-CAfile",
                    svc.caCert().toString(),
                    "-cert",
                    svc.clientCert("test-client").toString(),
                    "-key",
                    svc.clientKey("test-client").toString(),
                    "-alpn",
                    "h2"))
            .redirectErrorStream(true)
            .redirectInput(new File("/dev/null"))
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String[] {String.valueOf(p.exitValue()), out};
  }

  @Test
  void tls12Client_isRefusedWithProtocolVersionAlert() throws Exception {
    String[] r = sClient("-tls1_2");
    assertThat(r[0]).as(r[1]).isNotEqualTo("0");
    assertThat(r[1])
        .contains("alert protocol version")
        .contains("no peer certificate available")
        .contains("Cipher is (NONE)");
  }

  @Test
  void tls13Client_sameCredentials_completesTheHandshake() throws Exception {
    String[] r = sClient("-tls1_3");
    assertThat(r[1]).as(r[1]).contains("TLSv1.3").contains("Verify return code: 0 (ok)");
  }
}
