package dev.keyhold.bench;

import dev.keyhold.bench.load.ProcessCpu;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Keyhold service started by the bench as a child JVM ({@code dev.keyhold.service.Main serve
 * --config FILE}) from the bench's own classpath. A separate process, not an in-process server, so
 * that the client's and the service's CPU are measured apart, GC and JIT of one do not pause the
 * other, and the service runs as it does in production. Stopped with SIGTERM (its shutdown hook
 * closes the server), then killed if it lingers.
 */
final class ChildService implements AutoCloseable {
  /** Keep in step with SERVICE_JVM_OPTS in ./keyhold. */
  static final String SERVICE_HEAP = "-Xms64m -Xmx160m -XX:+UseG1GC -XX:MaxGCPauseMillis=10";

  private static final java.util.regex.Pattern LISTENING =
      java.util.regex.Pattern.compile("Keyhold listening on (\\S+):(\\d+) ");
  private static final java.util.regex.Pattern METRICS_LISTENING =
      java.util.regex.Pattern.compile("Keyhold metrics listening on (\\S+):(\\d+)");

  private final Process process;
  private final Path log;
  private int port;

  private ChildService(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** The port the service listens on: the configured one, or the one it chose for port 0. */
  int port() {
    return port;
  }

  /** The port in the service's "Keyhold listening on HOST:PORT" log line, or -1 before it. */
  static int listeningPort(String logText) {
    java.util.regex.Matcher m = LISTENING.matcher(logText);
    return m.find() ? Integer.parseInt(m.group(2)) : -1;
  }

  /**
   * The port in the service's "Keyhold metrics listening on HOST:PORT" log line (logged before the
   * "Keyhold listening" line), or -1 before it or without {@code metrics.listen}.
   */
  static int metricsPort(String logText) {
    java.util.regex.Matcher m = METRICS_LISTENING.matcher(logText);
    return m.find() ? Integer.parseInt(m.group(2)) : -1;
  }

  /**
   * The port this service's {@code /metrics} bound (the one it chose for {@code metrics.listen}
   * port 0), from its log; -1 without one.
   */
  int metricsPort() throws IOException {
    return metricsPort(Files.readString(log));
  }

  /**
   * Starts the service and waits until its port accepts connections. With port 0 the service binds
   * a free port, which is read from its log line.
   */
  static ChildService start(
      Path javaHome, Path config, String host, int port, List<String> jvmArgs, Path log)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaExecutable(javaHome).toString());
    cmd.add("--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED");
    // The heap the ./keyhold launcher gives the service, so RSS is measured as deployed;
    // --service-jvm-arg values come later and win.
    cmd.addAll(List.of(SERVICE_HEAP.split(" ")));
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.keyhold.service.Main");
    cmd.add("serve");
    cmd.add("--config");
    cmd.add(config.toString());
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ChildService child = new ChildService(p, log);
    Runtime.getRuntime().addShutdownHook(new Thread(child::close, "bench-stop-service"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException(
            "the Keyhold service exited with "
                + p.exitValue()
                + " during start-up; its log "
                + log
                + " ends with:\n"
                + tail(log));
      }
      int target = port;
      if (target == 0) {
        target = listeningPort(Files.exists(log) ? Files.readString(log) : "");
        if (target < 0) {
          TimeUnit.MILLISECONDS.sleep(200);
          continue;
        }
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, target), 200);
        child.port = target;
        return child;
      } catch (IOException notYet) {
        TimeUnit.MILLISECONDS.sleep(200);
      }
    }
    child.close();
    throw new IOException(
        "the Keyhold service did not listen on " + host + ":" + port + " within 60 s; see " + log);
  }

  /**
   * The {@code java} launcher of {@code javaHome}, or of the bench's own JDK when it is null.
   *
   * @throws IOException when that JDK has no executable {@code bin/java}
   */
  static Path javaExecutable(Path javaHome) throws IOException {
    Path home = javaHome == null ? Path.of(System.getProperty("java.home")) : javaHome;
    Path java = home.resolve("bin").resolve("java");
    if (!Files.isExecutable(java)) {
      throw new IOException(
          "--java-home " + home + " has no executable bin/java (is it a JDK or JRE directory?)");
    }
    return java;
  }

  long pid() {
    return process.pid();
  }

  ProcessCpu cpu() {
    return ProcessCpu.of(process.pid());
  }

  Path log() {
    return log;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(unreadable)";
    }
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
