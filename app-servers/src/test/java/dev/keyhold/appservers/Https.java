package dev.keyhold.appservers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/** What the app-server tests share: ports, the test service, the README snippets, TLS clients. */
final class Https {
  static final Path SNIPPETS = Path.of(System.getProperty("keyhold.snippets"));
  static final Path ALL_JAR = Path.of(System.getProperty("keyhold.allJar"));

  private Https() {}

  /**
   * A port that was free a moment ago, for a stock app server's HTTPS connector only: Tomcat and
   * Jetty started as processes cannot report a port they bound from 0 in a way these tests read.
   * Its start is retried once on a new port if the server logs that it could not bind this one
   * ({@link #awaitStarted}). The Keyhold service binds port 0 and reports its port instead.
   */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Restarts the test service on {@code port}, the one it bound (from 0) before; retries while the
   * previous service's socket is being released.
   */
  static TestKeyholdService serviceOn(int port) {
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

  static String snippet(String name) throws IOException {
    return Files.readString(SNIPPETS.resolve(name), StandardCharsets.UTF_8);
  }

  /**
   * The README's {@code keyhold.properties}, with this test's service port and files in place of
   * the example's {@code 127.0.0.1:7443} and {@code /etc/keyhold/...}.
   */
  static String properties(TestKeyholdService svc, int port, Path cacheDir) throws IOException {
    return snippet("common/keyhold.properties")
        .replace("127.0.0.1:7443", "127.0.0.1:" + port)
        .replace("/etc/keyhold/ca.pem", svc.caCert().toString())
        .replace("/etc/keyhold/app.pem", svc.clientCert("test-client").toString())
        .replace("/etc/keyhold/app-key.pem", svc.clientKey("test-client").toString())
        .replace("/var/cache/keyhold", cacheDir.toString())
        .replace("deadline=2s", "deadline=5s");
  }

  /** A stock app server's log saying that it could not bind its port. */
  private static final Pattern BIND_FAILED =
      Pattern.compile("Address already in use|java\\.net\\.BindException");

  /**
   * Waits until the server's log says it {@code started} (then until it accepts on {@code port}):
   * true; or until the log says it could not bind its port: false, so the caller starts it once
   * more on a new port. Fails if the process ends or nothing happens for 90 s.
   */
  static boolean awaitStarted(Process p, int port, Path log, Pattern started) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < end) {
      String text = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
      if (BIND_FAILED.matcher(text).find()) {
        return false;
      }
      if (started.matcher(text).find()) {
        awaitListening(p, port, log);
        return true;
      }
      assertThat(p.isAlive()).as("server exited early; log:\n%s", tail(log)).isTrue();
      p.waitFor(100, TimeUnit.MILLISECONDS);
    }
    throw new AssertionError("the server did not start; log:\n" + tail(log));
  }

  /** Waits until something accepts connections on {@code port}, or the process ends. */
  static void awaitListening(Process p, int port, Path log) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < end) {
      assertThat(p.isAlive()).as("server exited early; log:\n%s", tail(log)).isTrue();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        Thread.onSpinWait();
        p.waitFor(100, TimeUnit.MILLISECONDS);
      }
    }
    throw new AssertionError("nothing listens on " + port + "; log:\n" + tail(log));
  }

  static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  /** Stops the server and anything it forked (Jetty's start.jar runs the server in a child JVM). */
  static void stop(Process p) throws InterruptedException {
    if (p == null) {
      return;
    }
    for (ProcessHandle child : p.descendants().toList()) {
      child.destroy();
      child.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(t -> null).join();
    }
    p.destroy();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Runs a command; returns exit code and output (stdout and stderr together). */
  static Result run(List<String> cmd, String stdin) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + cmd);
    }
    return new Result(p.exitValue(), out);
  }

  record Result(int exit, String out) {}

  /** One TLS client run: curl, or openssl s_client, with protocol/cipher options. */
  record Client(String name, List<String> curlArgs, List<String> opensslArgs, String op) {}

  /** TLS 1.3, TLS 1.2 ECDHE-RSA, ECDHE-ECDSA and RSA key exchange, each by curl and openssl. */
  static final List<Client> CLIENTS =
      List.of(
          new Client("TLS 1.3", List.of("--tlsv1.3"), List.of("-tls1_3"), "sign"),
          new Client(
              "TLS 1.2 ECDHE-RSA",
              List.of("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"),
              List.of("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
              "sign"),
          new Client(
              "TLS 1.2 ECDHE-ECDSA",
              List.of(
                  "--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"),
              List.of("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"),
              "sign"),
          new Client(
              "TLS 1.2 RSA key exchange",
              List.of("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "AES128-GCM-SHA256"),
              List.of("-tls1_2", "-cipher", "AES128-GCM-SHA256"),
              "decrypt_premaster"));

  static Result curl(int port, List<String> args) throws Exception {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                "curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"));
    cmd.addAll(args);
    cmd.add("https://127.0.0.1:" + port + "/");
    return run(cmd, "");
  }

  static Result openssl(int port, List<String> args) throws Exception {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "localhost"));
    cmd.addAll(args);
    return run(cmd, "Q\n");
  }

  /**
   * Every client against {@code port}: each gets HTTP 200 (curl) or a finished handshake with the
   * cipher asked for (openssl), and costs exactly one operation of its kind in the service.
   */
  static void assertAllClients(TestKeyholdService svc, int port, String httpStatus)
      throws Exception {
    assertClients(svc, port, httpStatus, CLIENTS);
  }

  static void assertClients(
      TestKeyholdService svc, int port, String httpStatus, List<Client> clients) throws Exception {
    for (Client c : clients) {
      long before = svc.metrics().count(c.op(), "ok");
      Result r = curl(port, c.curlArgs());
      assertThat(r.out()).as("curl %s", c.name()).isEqualTo(httpStatus);
      assertThat(awaitCount(() -> svc.metrics().count(c.op(), "ok"), before + 1))
          .as("curl %s: one %s", c.name(), c.op())
          .isEqualTo(before + 1);

      before = svc.metrics().count(c.op(), "ok");
      r = openssl(port, c.opensslArgs());
      assertThat(r.exit()).as("openssl %s: %s", c.name(), r.out()).isZero();
      assertThat(r.out()).as("openssl %s", c.name()).containsPattern("Cipher is [A-Z0-9_-]+");
      if (c.opensslArgs().contains("-cipher")) {
        assertThat(r.out()).contains("Cipher is " + c.opensslArgs().get(2));
      } else {
        assertThat(r.out()).contains("TLSv1.3");
      }
      assertThat(awaitCount(() -> svc.metrics().count(c.op(), "ok"), before + 1))
          .as("openssl %s: one %s", c.name(), c.op())
          .isEqualTo(before + 1);
    }
  }

  /** curl, repeated while it fails, for at most 30 s: the service has just come back. */
  static Result curlOnceUp(int port, List<String> args, String httpStatus) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Result r;
    do {
      r = curl(port, args);
    } while (!r.out().equals(httpStatus) && System.nanoTime() < end);
    return r;
  }

  /** Polls until the counter reaches {@code expected} (metrics may be recorded after the reply). */
  static long awaitCount(LongSupplier counter, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long v = counter.getAsLong();
    while (v < expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
      v = counter.getAsLong();
    }
    return v;
  }
}
