package dev.keyhold.bench.handshake;

import dev.keyhold.bench.load.ProcessCpu;
import dev.keyhold.config.PinSource;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The baseline a user would pick instead of Keyhold: Debian's nginx with the libp11 PKCS#11 engine
 * ({@code libengine-pkcs11-openssl}) holding the same token key in-process, master and workers
 * forked from one binary. The bench writes its configuration, starts it as a child process on
 * loopback, measures the CPU of the master and its workers, and stops it.
 *
 * <p>The PIN goes into an OpenSSL configuration file of mode 600 (the engine's {@code PIN}
 * setting), never into nginx's configuration, its command line or a log: nginx repeats a key path
 * in its error messages.
 */
public final class NginxLibp11 implements AutoCloseable {
  /** The token the Keyhold service uses, reached directly through libp11. */
  public record Token(Path library, String label, PinSource pin) {}

  /** Where Debian puts nginx and the engine; the first that exists wins. */
  static final List<Path> NGINX_CANDIDATES = List.of(Path.of("/usr/sbin/nginx"));

  static final List<Path> ENGINE_CANDIDATES =
      List.of(
          Path.of("/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"),
          Path.of("/usr/lib/aarch64-linux-gnu/engines-3/pkcs11.so"),
          Path.of("/usr/lib64/engines-3/pkcs11.so"));

  /** The installer run-all uses; the message for a machine without the packages points at it. */
  static final String INSTALL_HINT =
      "install with bench/install-nginx-libp11.sh (apt-get install nginx"
          + " libengine-pkcs11-openssl, without starting Debian's nginx service)";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
  private static final int BIND_ATTEMPTS = 5;

  private final Process process;
  private final int port;
  private final Path errorLog;

  private final Thread stopOnExit;

  private NginxLibp11(Process process, int port, Path errorLog) {
    this.process = process;
    this.port = port;
    this.errorLog = errorLog;
    // As ChildService does for the service: a bench stopped by Ctrl-C or an error leaves no nginx.
    this.stopOnExit =
        new Thread(
            () -> {
              try {
                stop(process);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
              }
            },
            "bench-stop-nginx");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  /** The nginx binary and the engine, found on this machine. */
  public record Install(Path nginx, Path engine) {}

  /**
   * Finds nginx and the libp11 engine among {@code nginx} and {@code engine} candidates, or says
   * which is missing and how to install it.
   */
  public static Install locate(List<Path> nginx, List<Path> engine) throws MissingException {
    Optional<Path> n = nginx.stream().filter(Files::isExecutable).findFirst();
    Optional<Path> e = engine.stream().filter(Files::isRegularFile).findFirst();
    List<String> missing = new ArrayList<>();
    if (n.isEmpty()) {
      missing.add("nginx (no " + nginx.get(0) + ")");
    }
    if (e.isEmpty()) {
      missing.add("the libp11 engine (no " + engine.get(0) + ")");
    }
    if (!missing.isEmpty()) {
      throw new MissingException(
          "not installed: " + String.join(" and ", missing) + "; " + INSTALL_HINT);
    }
    return new Install(n.get(), e.get());
  }

  /** This machine's nginx and engine. */
  public static Install locate() throws MissingException {
    return locate(NGINX_CANDIDATES, ENGINE_CANDIDATES);
  }

  /** The baseline cannot run here; the message says why and what to do. */
  public static final class MissingException extends Exception {
    private static final long serialVersionUID = 1L;

    MissingException(String message) {
      super(message);
    }
  }

  /**
   * Writes the configuration under {@code dir} and starts nginx with {@code workers} worker
   * processes serving {@code leaf} with the token key {@code keyLabel}; returns once it accepts
   * connections. The token's PKCS#11 library gets the environment of this process ({@code
   * SOFTHSM2_CONF}).
   */
  public static NginxLibp11 start(
      Install install,
      Path workDir,
      Token token,
      String keyLabel,
      X509Certificate leaf,
      int workers)
      throws IOException, InterruptedException {
    // nginx resolves a relative -c against its -p prefix, so every path it gets is absolute.
    Path dir = workDir.toAbsolutePath().normalize();
    Files.createDirectories(dir.resolve("tmp"));
    Path cert = dir.resolve("cert.pem");
    Files.writeString(cert, pem(leaf), StandardCharsets.US_ASCII);
    Path opensslConf = dir.resolve("openssl.cnf");
    Files.deleteIfExists(opensslConf);
    Files.createFile(
        opensslConf,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    char[] pin = token.pin().read();
    try {
      Files.writeString(
          opensslConf, opensslConf(install.engine(), token.library(), pin), StandardCharsets.UTF_8);
    } finally {
      Arrays.fill(pin, '\0');
    }
    Path errorLog = dir.resolve("error.log");
    String keyUri = keyUri(token.label(), keyLabel);
    IOException last = null;
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      // nginx cannot listen on port 0 and report the port, so take a free one and retry on a race.
      int port;
      try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = probe.getLocalPort();
      }
      Path conf = dir.resolve("nginx.conf");
      Files.writeString(conf, nginxConf(dir, port, workers, cert, keyUri), StandardCharsets.UTF_8);
      Files.deleteIfExists(errorLog);
      ProcessBuilder pb =
          new ProcessBuilder(command(install.nginx(), dir))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("nginx.out").toFile());
      pb.environment().put("OPENSSL_CONF", opensslConf.toString());
      Process p = pb.start();
      try {
        awaitListening(p, port, errorLog);
        // The master loaded the engine and logged in (init = 1) before it forked its workers, which
        // inherit the session: the PIN need not stay on disk while the server runs.
        Files.deleteIfExists(opensslConf);
        return new NginxLibp11(p, port, errorLog);
      } catch (IOException e) {
        stop(p);
        last = e;
        if (!e.getMessage().contains("Address already in use")) {
          throw e;
        }
      }
    }
    throw last;
  }

  /** nginx in the foreground with prefix {@code dir} and {@code dir/nginx.conf}, both absolute. */
  static List<String> command(Path nginx, Path dir) {
    Path prefix = dir.toAbsolutePath().normalize();
    return List.of(
        nginx.toString(), "-p", prefix.toString(), "-c", prefix.resolve("nginx.conf").toString());
  }

  private static void awaitListening(Process p, int port, Path errorLog)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException(
            "nginx exited with status "
                + p.exitValue()
                + ": "
                + firstProblem(errorLog, errorLog.resolveSibling("nginx.out")));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IOException(
        "nginx did not listen on port " + port + " within " + START_TIMEOUT.toSeconds() + " s");
  }

  /**
   * The first emergency or critical line nginx logged in any of {@code logs} (its error log, then
   * its stderr, where it reports what fails before the error log is open), or a placeholder.
   */
  static String firstProblem(Path... logs) {
    for (Path log : logs) {
      try {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          if (line.contains("[emerg]") || line.contains("[crit]") || line.contains("[alert]")) {
            return line.substring(line.indexOf('[')).trim();
          }
        }
      } catch (IOException e) {
        // not written (yet)
      }
    }
    return "nothing in "
        + String.join(" or ", Arrays.stream(logs).map(l -> l.getFileName().toString()).toList());
  }

  public int port() {
    return port;
  }

  /** The master and its workers. */
  public ProcessCpu cpu() {
    return ProcessCpu.tree(process.pid());
  }

  /** Handshakes nginx logged as failed ({@code SSL_do_handshake() failed}, logged as critical). */
  public long handshakesFailed() {
    try (var lines = Files.lines(errorLog, StandardCharsets.UTF_8)) {
      return lines.filter(l -> l.contains("SSL_do_handshake() failed")).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }

  /** Why the last handshake failed on nginx's side, from its error log, or a placeholder. */
  public String lastProblem() {
    return firstProblem(errorLog);
  }

  @Override
  public void close() throws InterruptedException {
    stop(process);
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: it finds nginx stopped
    }
  }

  /** SIGTERM (nginx's fast shutdown), then SIGKILL after 10 s. */
  private static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The server: {@code workers} worker processes (the bench gives Netty the same number of event
   * loops), TLS 1.2 and 1.3 with nginx's default ciphers, no session cache and no tickets (the
   * client does not resume either), no access log, one static reply.
   */
  static String nginxConf(Path dir, int port, int workers, Path cert, String keyUri) {
    Path tmp = dir.resolve("tmp");
    return String.join(
        "\n",
        "# written by keyhold-bench handshakes (nginx-libp11 baseline)",
        "daemon off;",
        "master_process on;",
        "user root;",
        "worker_processes " + workers + ";",
        "pid " + dir.resolve("nginx.pid") + ";",
        "error_log " + dir.resolve("error.log") + " warn;",
        "env SOFTHSM2_CONF;",
        "env OPENSSL_CONF;",
        "events { worker_connections 4096; }",
        "http {",
        "  access_log off;",
        "  client_body_temp_path " + tmp + ";",
        "  proxy_temp_path " + tmp + ";",
        "  fastcgi_temp_path " + tmp + ";",
        "  uwsgi_temp_path " + tmp + ";",
        "  scgi_temp_path " + tmp + ";",
        "  server {",
        "    listen 127.0.0.1:" + port + " ssl;",
        "    ssl_certificate " + cert + ";",
        "    ssl_certificate_key \"engine:pkcs11:" + keyUri + "\";",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    ssl_session_cache off;",
        "    ssl_session_tickets off;",
        "    location / { return 200 \"ok\\n\"; }",
        "  }",
        "}",
        "");
  }

  /**
   * The engine's OpenSSL configuration: initialised when nginx loads it, but not the default for
   * any algorithm, so only the token key's operations go to the HSM (as with Keyhold).
   */
  static String opensslConf(Path engine, Path module, char[] pin) {
    return String.join(
        "\n",
        "openssl_conf = openssl_init",
        "[openssl_init]",
        "engines = engine_section",
        "[engine_section]",
        "pkcs11 = pkcs11_section",
        "[pkcs11_section]",
        "engine_id = pkcs11",
        "dynamic_path = " + escapeConfValue(engine.toString()),
        "MODULE_PATH = " + escapeConfValue(module.toString()),
        "PIN = " + escapeConfValue(new String(pin)),
        "init = 1",
        "");
  }

  /** OpenSSL's config syntax: a backslash escapes {@code $ # " ' \} and space. */
  static String escapeConfValue(String v) {
    StringBuilder sb = new StringBuilder(v.length());
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if ("$#\"'\\ ;".indexOf(c) >= 0) {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }

  /** An RFC 7512 URI for a private key by token and object label, percent-encoding the rest. */
  static String keyUri(String tokenLabel, String objectLabel) {
    return "pkcs11:token=" + pct(tokenLabel) + ";object=" + pct(objectLabel) + ";type=private";
  }

  private static String pct(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "-._~".indexOf(c) >= 0) {
        sb.append((char) c);
      } else {
        sb.append('%').append(String.format(java.util.Locale.ROOT, "%02X", c));
      }
    }
    return sb.toString();
  }

  static String pem(X509Certificate cert) {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(cert.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate cannot be encoded", e);
    }
  }
}
