package dev.keyhold.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.demo.jsse.JsseDemoServer;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** The demo's command line, end to end: start it as the launcher script does, then curl it. */
class DemoMainIT {
  @TempDir Path dir;

  @Test
  void commandLine_wantMode_servesRsaKeyExchangeAndTls13() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      // The test token's certificates are placeholders; give the server CA-signed chains.
      Path rsaChain = chain(svc, "rsa2048");
      Path ecChain = chain(svc, "ec-p256");
      // The demo binds port 0 and logs the port it bound: read it from that log line.
      ListAppender<ILoggingEvent> logged = new ListAppender<>();
      logged.start();
      Logger serverLog = (Logger) LoggerFactory.getLogger(JsseDemoServer.class);
      serverLog.addAppender(logged);
      String[] args = {
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
        "--key-name",
        "rsa2048",
        "--key-name",
        "ec-p256",
        "--chain",
        "rsa2048=" + rsaChain,
        "--chain",
        "ec-p256=" + ecChain,
        "--listen",
        "127.0.0.1:0",
        "--client-auth",
        "want",
        "--client-ca",
        svc.caCert().toString(),
        "--deadline",
        "5s",
      };
      AtomicInteger exit = new AtomicInteger(-1);
      Thread main =
          new Thread(() -> exit.set(new CommandLine(new DemoMain()).execute(args)), "demo-main");
      main.start();
      try {
        int port = awaitListening(logged, exit);
        serverLog.detachAppender(logged);
        String rsa =
            curl(
                svc.caCert(),
                port,
                "--tls-max",
                "1.2",
                "--tlsv1.2",
                "--ciphers",
                "AES128-GCM-SHA256");
        assertThat(rsa)
            .isEqualTo(
                "hello from Keyhold: key rsa2048, protocol TLSv1.2, suite"
                    + " TLS_RSA_WITH_AES_128_GCM_SHA256, client (no certificate)\n");
        String tls13 = curl(svc.caCert(), port, "--tlsv1.3");
        assertThat(tls13).startsWith("hello from Keyhold: key ec-p256, protocol TLSv1.3");
      } finally {
        main.interrupt();
        main.join(TimeUnit.SECONDS.toMillis(15));
      }
      assertThat(main.isAlive()).isFalse();
    }
  }

  private Path chain(TestKeyholdService svc, String key) throws Exception {
    KeyholdClient c = TestClients.connect(svc, Duration.ofSeconds(5));
    try (c) {
      var info = c.getKey(key);
      var pub =
          KeyFactory.getInstance(key.startsWith("rsa") ? "RSA" : "EC")
              .generatePublic(new X509EncodedKeySpec(info.getSpkiDer().toByteArray()));
      LocalPki pki = svc.pki().loadOrCreateCa();
      Path file = dir.resolve(key + ".pem");
      Files.writeString(
          file,
          LocalPki.pem(
              pki.issueFor("localhost", pub, List.of("localhost"), false), pki.caCertificate()));
      return file;
    }
  }

  private static String curl(Path ca, int port, String... opts) throws Exception {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                "curl",
                "-sS",
                "--max-time",
                "20",
                "--cacert",
                ca.toString(),
                "--resolve",
                "localhost:" + port + ":127.0.0.1"));
    cmd.addAll(List.of(opts));
    cmd.add("https://localhost:" + port + "/");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("curl timed out");
      }
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      p.destroyForcibly();
    }
  }

  /**
   * The port in the demo server's "JSSE demo server listening on https://127.0.0.1:PORT" line,
   * which it logs once it listens.
   */
  private static int awaitListening(ListAppender<ILoggingEvent> logged, AtomicInteger exit)
      throws InterruptedException {
    Pattern listening = Pattern.compile("listening on https://127\\.0\\.0\\.1:(\\d+) ");
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < end) {
      List<ILoggingEvent> events;
      synchronized (logged) { // the lock AppenderBase.doAppend holds while it appends
        events = new java.util.ArrayList<>(logged.list);
      }
      for (ILoggingEvent e : events) {
        Matcher m = listening.matcher(e.getFormattedMessage());
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      assertThat(exit.get()).as("the demo exited").isEqualTo(-1);
      Thread.sleep(50);
    }
    throw new AssertionError("the demo did not log that it listens");
  }
}
