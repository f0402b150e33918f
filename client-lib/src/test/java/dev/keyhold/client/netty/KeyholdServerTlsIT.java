package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.TestKeyholdService;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Several HSM-held keys on one port: {@link KeyholdServerTls} picks, per ClientHello, a key the
 * client can use, and records the exact ClientHello version for RSA key exchange.
 */
class KeyholdServerTlsIT {

  @Test
  void rsaAndEcKeys_eachClientKind_getsUsableKeyAndExactVersion() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start();
        KeyholdClient client = TestClients.connect(svc, Duration.ofSeconds(10));
        KeyholdServerTls tls =
            KeyholdServerTls.create(
                client,
                List.of(
                    OffloadedKey.fetch(client, "ec-p384"), OffloadedKey.fetch(client, "rsa2048")),
                b -> b);
        TestHttpsServer server = new TestHttpsServer(ch -> tls.newHandler(), 1)) {
      Peers.Result tls13 = Peers.sClient(server.port(), "-tls1_3");
      assertThat(tls13.exit()).as("openssl -tls1_3 exit code: %s", tls13.output()).isZero();
      assertThat(tls13.output())
          .contains("HTTP/1.1 200 OK")
          .containsPattern(
              "\n"
                  + "Hello from Keyhold: TLSv1\\.3"
                  + " TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)\n")
          .contains("CN = ec-p384");

      long decrypts = svc.metrics().count("decrypt_premaster", "ok");
      Peers.Result rsaKx = Peers.sClient(server.port(), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
      assertThat(rsaKx.exit())
          .as("openssl RSA key exchange exit code: %s", rsaKx.output())
          .isZero();
      assertThat(rsaKx.output())
          .contains("HTTP/1.1 200 OK")
          .contains("\nHello from Keyhold: TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256\n")
          .contains("CN = rsa2048");
      assertThat(tls.clientHelloVersions().used())
          .as("the ClientHello's own version was sent to Keyhold")
          .isEqualTo(1);
      assertThat(svc.metrics().count("decrypt_premaster", "ok")).isGreaterThan(decrypts);

      Peers.Result ecdhe =
          Peers.curl(
              server.port(),
              "-k",
              "--tlsv1.2",
              "--tls-max",
              "1.2",
              "--ciphers",
              "ECDHE-RSA-AES128-GCM-SHA256");
      assertThat(ecdhe.exit()).as("curl exit code: %s", ecdhe.output()).isZero();
      assertThat(ecdhe.output())
          .contains("< HTTP/1.1 200 OK")
          .contains("Hello from Keyhold: TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n");
    }
  }
}
