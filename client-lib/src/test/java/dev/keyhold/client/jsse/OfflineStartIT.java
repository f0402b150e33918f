package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.client.jca.KeyholdProvider;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key store as an app server uses it when the service is down at start-up: with local chains it
 * loads without a call, and handshakes work once the service is up; without them it waits for the
 * service for {@code startupWait}, then fails with one line.
 */
class OfflineStartIT {
  static TestKeyholdService probe;
  static X509Certificate[] rsaChain;

  @BeforeAll
  static void chains() throws Exception {
    KeyholdProvider.install();
    try (TestKeyholdService svc = TestKeyholdService.start();
        var client = TlsPeers.client(svc, "test-client", Duration.ofSeconds(5))) {
      rsaChain = KeyholdKeyManager.create(client, "rsa2048").getCertificateChain("rsa2048");
      probe = svc;
    }
  }

  /**
   * The address of a service that was up and is now down: the port a service bound (port 0) and
   * released when it stopped. The test (re)starts the service there, as a restarted service comes
   * back where its clients expect it; nothing probes a port for it. One per test: the client's
   * failure log is rate-limited per address.
   */
  static int portOfAStoppedService() {
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      return svc.port();
    }
  }

  static String props(int port, String... extra) {
    return String.join(
        "\n",
        "target=127.0.0.1:" + port,
        "ca=" + probe.caCert(),
        "cert=" + probe.clientCert("test-client"),
        "key=" + probe.clientKey("test-client"),
        "authority=localhost",
        "deadline=5s",
        String.join("\n", extra));
  }

  static KeyStore load(String props) throws Exception {
    KeyStore ks = KeyStore.getInstance("Keyhold", KeyholdProvider.NAME);
    ks.load(new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)), null);
    return ks;
  }

  static Path pem(Path file, X509Certificate... chain) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (X509Certificate c : chain) {
      sb.append("-----BEGIN CERTIFICATE-----\n")
          .append(Base64.getMimeEncoder().encodeToString(c.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    return Files.writeString(file, sb);
  }

  static SSLContext serverContext(KeyStore ks) throws Exception {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
    kmf.init(ks, new char[0]);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  /**
   * Restarts the service on its {@code port}; retries briefly while the previous one's socket is
   * still being released.
   */
  static TestKeyholdService startOn(int port) {
    RuntimeException last = null;
    for (int i = 0; i < 20; i++) {
      try {
        return TestKeyholdService.builder().port(port).start();
      } catch (RuntimeException e) {
        last = e;
      }
    }
    throw last;
  }

  @Test
  void localChain_serviceDownAtLoad_loadsWithoutCallAndHandshakesOnceServiceIsUp(@TempDir Path dir)
      throws Exception {
    int port = portOfAStoppedService();
    Path chain = pem(dir.resolve("rsa.pem"), rsaChain);
    long t0 = System.nanoTime();
    KeyStore ks = load(props(port, "keys=rsa2048", "chain.rsa2048=" + chain, "startupWait=60s"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    assertThat(ks.getCertificate("rsa2048")).isEqualTo(rsaChain[0]);
    SSLContext server = serverContext(ks);

    try (TlsPeers.Server tls = new TlsPeers.Server(server, false, false)) {
      // Down: the handshake fails, and the failure is logged once at WARNING with its status.
      List<LogRecord> records = new CopyOnWriteArrayList<>();
      Handler h = capture(records);
      Logger.getLogger("dev.keyhold.client").addHandler(h);
      try {
        for (int i = 0; i < 2; i++) {
          assertThatThrownBy(
                  () ->
                      TlsPeers.connect(
                          TlsPeers.context(null, TlsPeers.trusting(rsaChain[0])),
                          tls.port(),
                          "TLSv1.3",
                          null))
              .isInstanceOf(SSLException.class);
          assertThat(tls.failures.poll(20, TimeUnit.SECONDS)).isNotNull();
        }
      } finally {
        Logger.getLogger("dev.keyhold.client").removeHandler(h);
      }
      assertThat(records)
          .filteredOn(r -> r.getLevel() == Level.WARNING)
          .hasSize(1)
          .first()
          .satisfies(
              r ->
                  assertThat(new java.util.logging.SimpleFormatter().formatMessage(r))
                      .contains("Keyhold sign with key rsa2048 at 127.0.0.1:" + port + " failed")
                      .containsAnyOf("UNAVAILABLE", "DEADLINE_EXCEEDED"));

      try (TestKeyholdService svc = startOn(port)) {
        long signs = svc.metrics().count("sign", "ok");
        String[] facts = handshakeOnceUp(tls.port(), rsaChain[0], "TLSv1.3", null);
        assertThat(facts[2]).isEqualTo("ok\n");
        assertThat(TlsPeers.awaitCount(() -> svc.metrics().count("sign", "ok"), signs + 1))
            .isEqualTo(signs + 1);
      }
    }
  }

  @Test
  void chainCache_writtenWhenFetched_thenServesAStartWhileServiceIsDown(@TempDir Path dir)
      throws Exception {
    int port = portOfAStoppedService();
    Path cache = dir.resolve("cache");
    try (TestKeyholdService svc = startOn(port)) {
      load(props(port, "keys=rsa2048,ec-p256", "chainCache=" + cache));
    }
    assertThat(cache.resolve("rsa2048.pem")).exists();
    assertThat(cache.resolve("ec-p256.pem")).exists();

    KeyStore ks =
        load(props(port, "keys=rsa2048,ec-p256", "chainCache=" + cache, "startupWait=60s"));
    assertThat(ks.getCertificate("rsa2048")).isEqualTo(rsaChain[0]);
    X509Certificate ecLeaf = (X509Certificate) ks.getCertificate("ec-p256");
    try (TlsPeers.Server tls = new TlsPeers.Server(serverContext(ks), false, false);
        TestKeyholdService svc = startOn(port)) {
      long signs = svc.metrics().count("sign", "ok");
      String[] facts =
          handshakeOnceUp(tls.port(), ecLeaf, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
      assertThat(facts[2]).isEqualTo("ok\n");
      assertThat(TlsPeers.awaitCount(() -> svc.metrics().count("sign", "ok"), signs + 1))
          .isEqualTo(signs + 1);
    }
  }

  @Test
  void noLocalChain_serviceDown_failsAfterStartupWaitWithOneClearLine() throws Exception {
    int port = portOfAStoppedService();
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> load(props(port, "keys=rsa2048", "startupWait=1s")))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("Keyhold key store: service 127.0.0.1:" + port + " unreachable")
        .hasMessageContaining("no local chain for key rsa2048")
        .hasMessageContaining("chain.rsa2048=")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(took)
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1))
        .isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void noLocalChain_serviceComesUpDuringStartupWait_loadSucceeds() throws Exception {
    int port = portOfAStoppedService();
    CompletableFuture<TestKeyholdService> svc = CompletableFuture.supplyAsync(() -> startOn(port));
    try {
      KeyStore ks = load(props(port, "keys=rsa2048", "startupWait=60s"));
      assertThat(ks.getCertificate("rsa2048")).isEqualTo(rsaChain[0]);
    } finally {
      svc.get(60, TimeUnit.SECONDS).close();
    }
  }

  /**
   * A handshake, repeated while it fails, for at most 10 s: the first one after the service is back
   * may still find the channel reconnecting. Exactly one remote operation per successful handshake
   * is checked by the callers.
   */
  static String[] handshakeOnceUp(int port, X509Certificate leaf, String protocol, String suite)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return TlsPeers.connect(
            TlsPeers.context(null, TlsPeers.trusting(leaf)), port, protocol, suite);
      } catch (SSLException e) {
        if (System.nanoTime() > end) {
          throw e;
        }
      }
    }
  }

  private static Handler capture(List<LogRecord> into) {
    return new Handler() {
      @Override
      public void publish(LogRecord r) {
        into.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
  }
}
