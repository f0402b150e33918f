package dev.keyhold.demo.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.jca.KeyholdPrivateKey;
import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.demo.jsse.JsseDemoServer.ClientAuth;
import dev.keyhold.service.setup.PkiDirectory;
import dev.keyhold.service.testing.CapturedLog;
import dev.keyhold.service.testing.SlowKey;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wrong-key handshakes fail cleanly: when Keyhold refuses the key or is down, the peer gets an
 * alert within the deadline (no hang, no bad_record_mac), the server logs one line saying why and
 * keeps serving, and handshakes succeed again once the service is back.
 */
class KeyholdFailureIT {
  private static final String GET = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration FAST = Duration.ofSeconds(10);

  @TempDir Path dir;
  private CapturedLog logs;

  @BeforeEach
  void captureLogs() {
    logs = CapturedLog.of(JsseDemoServer.class);
  }

  @AfterEach
  void releaseLogs() {
    logs.close();
  }

  private List<String> failureLines() {
    return logs.messages().stream().filter(m -> m.startsWith("TLS handshake from")).toList();
  }

  private static Proc sClient(int port, Path ca, String... extra) throws Exception {
    List<String> cmd =
        new java.util.ArrayList<>(
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
    return Proc.run(cmd, GET, PEER_TIMEOUT);
  }

  @Test
  void serviceRefusesKey_alertAndOneLogLine_serverKeepsServing() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start();
        KeyholdClient full = DemoPki.client(svc, "test-client", Duration.ofSeconds(5));
        KeyholdClient limited = DemoPki.client(svc, "limited-client", Duration.ofSeconds(5))) {
      // limited-client may sign with ec-* only: the RSA key is refused at handshake time.
      Path rsaChain = DemoPki.chainFor(svc, full, "rsa2048", false, dir);
      KeyholdPrivateKey rsaViaLimited = KeyholdPrivateKey.of(limited, full.getKey("rsa2048"));
      KeyholdKeyManager km =
          KeyholdKeyManager.builder(limited)
              .key(
                  rsaViaLimited,
                  PkiDirectory.readCertificates(rsaChain).toArray(X509Certificate[]::new))
              .key("ec-p256", DemoPki.chainFor(svc, full, "ec-p256", false, dir))
              .build();
      try (JsseDemoServer server =
          JsseDemoServer.start(km, "127.0.0.1", 0, ClientAuth.NONE, null)) {
        for (String[] args :
            List.of(
                new String[] {"-tls1_2", "-cipher", "AES128-GCM-SHA256"},
                new String[] {"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"},
                new String[] {"-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"})) {
          int before = failureLines().size();
          long t0 = System.nanoTime();
          Proc p = sClient(server.port(), svc.caCert(), args);
          assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(FAST);
          assertThat(p.stdout()).doesNotContain("hello from Keyhold");
          assertThat(p.all())
              .as(String.join(" ", args))
              .contains("alert")
              .doesNotContain("bad record mac");
          awaitLines(before + 1);
          List<String> lines = failureLines();
          assertThat(lines).hasSize(before + 1);
          assertThat(lines.get(before))
              .contains("Keyhold refused")
              .contains("rsa2048")
              .contains("NOT_FOUND");
        }
        // The same server still serves the key Keyhold allows.
        Proc ok =
            sClient(
                server.port(), svc.caCert(), "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
        assertThat(ok.stdout()).as(ok.all()).contains("hello from Keyhold: key ec-p256");
      }
    }
  }

  @Test
  void serviceDown_failsFastWithAlert_thenRecoversWhenServiceIsBack() throws Exception {
    TestKeyholdService svc = TestKeyholdService.start();
    int port = svc.port();
    Path ca = svc.caCert();
    try (KeyholdClient client = DemoPki.client(svc, "test-client", Duration.ofSeconds(5))) {
      KeyholdKeyManager km =
          KeyholdKeyManager.builder(client)
              .key("rsa2048", DemoPki.chainFor(svc, client, "rsa2048", false, dir))
              .key("ec-p256", DemoPki.chainFor(svc, client, "ec-p256", false, dir))
              .build();
      try (JsseDemoServer server =
          JsseDemoServer.start(km, "127.0.0.1", 0, ClientAuth.NONE, null)) {
        assertThat(sClient(server.port(), ca, "-tls1_2", "-cipher", "AES128-GCM-SHA256").stdout())
            .contains("hello from Keyhold: key rsa2048");

        svc.close();
        svc = null;
        for (String[] args :
            List.of(
                new String[] {"-tls1_2", "-cipher", "AES128-GCM-SHA256"},
                new String[] {"-tls1_3"})) {
          int before = failureLines().size();
          long t0 = System.nanoTime();
          Proc p = sClient(server.port(), ca, args);
          assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(FAST);
          assertThat(p.stdout()).doesNotContain("hello from Keyhold");
          assertThat(p.all())
              .as(String.join(" ", args))
              .contains("alert")
              .doesNotContain("bad record mac");
          awaitLines(before + 1);
          assertThat(failureLines().get(before)).contains("Keyhold unavailable");
        }

        svc = TestKeyholdService.builder().port(port).start();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String last = "";
        while (System.nanoTime() < end) {
          Proc p = sClient(server.port(), ca, "-tls1_2", "-cipher", "AES128-GCM-SHA256");
          last = p.all();
          if (p.stdout().contains("hello from Keyhold: key rsa2048")) {
            break;
          }
          Thread.sleep(200);
        }
        assertThat(last).contains("hello from Keyhold: key rsa2048");
        assertThat(sClient(server.port(), ca, "-tls1_3").stdout()).contains("hello from Keyhold");
      }
    } finally {
      if (svc != null) {
        svc.close();
      }
    }
  }

  @Test
  void hsmSlowerThanDeadline_failsWithinDeadline_thenRecovers() throws Exception {
    SlowKey.Control hsm = new SlowKey.Control();
    try (TestKeyholdService svc = TestKeyholdService.builder().decorator(hsm.decorator()).start();
        KeyholdClient setup = DemoPki.client(svc, "test-client", Duration.ofSeconds(5));
        KeyholdClient fast = DemoPki.client(svc, "test-client", Duration.ofSeconds(1))) {
      warmUp(fast);
      Path chain = DemoPki.chainFor(svc, setup, "rsa2048", false, dir);
      KeyholdPrivateKey rsa = KeyholdPrivateKey.of(fast, setup.getKey("rsa2048"));
      KeyholdKeyManager km =
          KeyholdKeyManager.builder(fast)
              .key(rsa, PkiDirectory.readCertificates(chain).toArray(X509Certificate[]::new))
              .build();
      try (JsseDemoServer server =
          JsseDemoServer.start(km, "127.0.0.1", 0, ClientAuth.NONE, null)) {
        // The HSM holds every call until the gate opens: only the 1 s client deadline can end the
        // handshake, so an alert at all proves the deadline applied (no wall-clock assertion).
        hsm.close();
        int before = failureLines().size();
        Proc p = sClient(server.port(), svc.caCert(), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(p.stdout()).doesNotContain("hello from Keyhold");
        assertThat(p.all()).contains("alert");
        awaitLines(before + 1);
        assertThat(failureLines().get(before))
            .contains("Keyhold unavailable")
            .contains("DEADLINE_EXCEEDED");
        assertThat(hsm.entered.get()).as("the operation reached the (held) HSM").isPositive();

        // Release the held operation; the next handshake is served at once.
        hsm.open();
        Proc ok = sClient(server.port(), svc.caCert(), "-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(ok.stdout()).as(ok.all()).contains("hello from Keyhold: key rsa2048");
      }
    }
  }

  /** The first call of a fresh channel pays for the mTLS set-up; keep it out of a 1 s deadline. */
  private static void warmUp(KeyholdClient client) throws InterruptedException {
    for (int i = 0; i < 20; i++) {
      try {
        client.listKeys();
        return;
      } catch (java.security.GeneralSecurityException e) {
        Thread.sleep(200);
      }
    }
  }

  private void awaitLines(int n) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (failureLines().size() < n && System.nanoTime() < end) {
      Thread.sleep(10);
    }
  }
}
