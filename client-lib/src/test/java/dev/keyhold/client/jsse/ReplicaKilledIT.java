package dev.keyhold.client.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.service.testing.KeyholdJvm;
import dev.keyhold.service.testing.TestHsm;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 acceptance "Replica killed": three Keyhold services as child JVMs on the one test token,
 * a JSSE TLS server whose key is offloaded through one client-lib client over all three, and load:
 * a few threads doing full handshakes (a fresh SSLContext each, so no resumption). One replica is
 * SIGKILLed mid-run and restarted on the port it first bound (port 0, read from its log). Zero
 * handshakes may fail; every live replica serves (its /metrics counter rises); the restarted one
 * gets traffic again.
 */
class ReplicaKilledIT {
  private static final String KEY = "ec-p256";
  private final List<Replica> replicas = new ArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private ExecutorService pool;

  @AfterEach
  void tearDown() throws Exception {
    stop.set(true);
    if (pool != null) {
      pool.shutdownNow();
      pool.awaitTermination(30, TimeUnit.SECONDS);
    }
    for (Replica r : replicas) {
      r.stop();
    }
  }

  @Test
  void handshakes_replicaKilledAndRestarted_noneFailAndTrafficReturns() throws Exception {
    TestHsm hsm = TestHsm.shared();
    for (int i = 0; i < 3; i++) {
      replicas.add(new Replica(hsm, i));
    }
    for (Replica r : replicas) {
      r.start();
    }
    for (Replica r : replicas) {
      r.awaitListening();
    }
    List<String> targets = replicas.stream().map(r -> "127.0.0.1:" + r.port).toList();
    try (KeyholdClient client =
        KeyholdClient.create(
            KeyholdClientConfig.builder()
                .targets(targets)
                .trustedCa(hsm.pki().caCert())
                .clientCertificate(hsm.pki().cert("test-client"), hsm.pki().key("test-client"))
                .authority("localhost")
                .deadline(Duration.ofSeconds(3))
                .build())) {
      KeyholdKeyManager km = KeyholdKeyManager.create(client, KEY);
      X509Certificate leaf = km.getCertificateChain(KEY)[0];
      pool = Executors.newFixedThreadPool(12);
      AtomicLong ok = new AtomicLong();
      Queue<Throwable> failed = new ConcurrentLinkedQueue<>();
      try (ConcurrentTlsServer server =
          new ConcurrentTlsServer(
              (SSLServerSocket)
                  TlsPeers.context(km, null).getServerSocketFactory().createServerSocket(),
              pool)) {
        for (int t = 0; t < 3; t++) {
          pool.execute(
              () -> {
                while (!stop.get()) {
                  try {
                    // A fresh context per handshake: a full handshake every time, no resumption.
                    String[] facts =
                        TlsPeers.connect(
                            TlsPeers.context(null, TlsPeers.trusting(leaf)),
                            server.port(),
                            "TLSv1.3",
                            null);
                    if ("ok\n".equals(facts[2])) {
                      ok.incrementAndGet();
                    } else {
                      failed.add(new AssertionError("server answered " + facts[2]));
                    }
                  } catch (Exception e) {
                    if (!stop.get()) {
                      failed.add(e);
                    }
                  }
                }
              });
        }

        // Traffic spreads over all three.
        for (Replica r : replicas) {
          awaitTrue(() -> r.signs() >= 5, "replica " + r.index + " serves");
        }

        Replica victim = replicas.get(0);
        victim.kill();
        long[] base = {replicas.get(1).signs(), replicas.get(2).signs()};
        long okAtKill = ok.get();
        awaitTrue(
            () ->
                replicas.get(1).signs() >= base[0] + 20 && replicas.get(2).signs() >= base[1] + 20,
            "both live replicas serve after the kill");
        assertThat(ok.get()).isGreaterThan(okAtKill);

        victim.start();
        victim.awaitListening(); // on the port it bound first: the client's target

        // round_robin reconnects with backoff; the restarted replica (counters from 0) serves.
        awaitTrue(() -> victim.signs() >= 5, "the restarted replica gets traffic again");

        stop.set(true);
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      assertThat(failed).as("failed handshakes").isEmpty();
      assertThat(ok.get()).isGreaterThan(60);
    }
  }

  private static void awaitTrue(BooleanSupplier cond, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }

  /** A JSSE server handling each connection on the pool: handshake, "ok\n", close. */
  private static final class ConcurrentTlsServer implements AutoCloseable {
    private final SSLServerSocket socket;

    ConcurrentTlsServer(SSLServerSocket socket, ExecutorService pool) throws IOException {
      this.socket = socket;
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
      Thread accept =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    SSLSocket s = (SSLSocket) socket.accept();
                    pool.execute(() -> serve(s));
                  } catch (IOException | java.util.concurrent.RejectedExecutionException e) {
                    // closed
                  }
                }
              },
              "replica-test-tls-accept");
      accept.setDaemon(true);
      accept.start();
    }

    private static void serve(SSLSocket s) {
      try (s) {
        s.setSoTimeout(15_000);
        s.startHandshake();
        OutputStream out = s.getOutputStream();
        out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      } catch (IOException e) {
        // the client sees the failure and records it
      }
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * One Keyhold service as a child JVM with its own config. The first start binds port 0 (gRPC and
   * metrics) and reads the bound ports from the service's log; a restart comes back on those same
   * ports, as a restarted replica does, since the client's targets name them.
   */
  private static final class Replica {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern LISTENING =
        Pattern.compile("Keyhold listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern METRICS =
        Pattern.compile("Keyhold metrics listening on 127\\.0\\.0\\.1:(\\d+)");
    final int index;
    int port;
    int metricsPort;
    private final TestHsm hsm;
    private final Path dir;
    private final Path config;
    private final Path log;
    private Process process;
    private long logOffset;

    Replica(TestHsm hsm, int index) throws IOException {
      this.hsm = hsm;
      this.index = index;
      this.dir = Files.createTempDirectory(hsm.root(), "replica-" + index + "-");
      this.log = dir.resolve("service.log");
      this.config = dir.resolve("keyhold.yaml");
      writeConfig();
    }

    /** The config with the current ports: 0 before the first start, the bound ones after. */
    private void writeConfig() throws IOException {
      Files.writeString(
          config,
          """
          listen: 127.0.0.1:%d
          tls:
            certChain: %s
            privateKey: %s
            clientCa: %s
          hsm:
            library: %s
            tokenLabel: %s
            pin: { file: %s }
            sessions: 2
          audit:
            file: %s
          metrics:
            listen: 127.0.0.1:%d
          policy:
            - client: test-client
              keys: ["*"]
              operations: [sign, decrypt_premaster]
          """
              .formatted(
                  port,
                  hsm.pki().cert("server"),
                  hsm.pki().key("server"),
                  hsm.pki().caCert(),
                  hsm.hsmConfig().library(),
                  TestHsm.TOKEN_LABEL,
                  hsm.root().resolve("user.pin"),
                  dir.resolve("audit.log"),
                  metricsPort));
    }

    void start() throws IOException {
      List<String> cmd =
          KeyholdJvm.command(
              List.of("-Xmx128m", "-XX:TieredStopAtLevel=1"),
              "serve",
              "--config",
              config.toString());
      logOffset = Files.exists(log) ? Files.size(log) : 0;
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().put("SOFTHSM2_CONF", hsm.softhsmConf().toString());
      process = pb.start();
    }

    /**
     * Waits until this start logged "Keyhold listening on" (it logs its metrics port before), then
     * takes the bound ports (first start) or checks they are the ones it had (restart).
     */
    void awaitListening() throws Exception {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < end) {
        String text = thisStartsLog();
        Matcher grpc = LISTENING.matcher(text);
        if (grpc.find()) {
          Matcher metrics = METRICS.matcher(text);
          assertThat(metrics.find())
              .as("replica %d logged its metrics port:%n%s", index, text)
              .isTrue();
          int bound = Integer.parseInt(grpc.group(1));
          int boundMetrics = Integer.parseInt(metrics.group(1));
          if (port == 0) {
            port = bound;
            metricsPort = boundMetrics;
            writeConfig();
          }
          assertThat(bound).as("replica %d gRPC port", index).isEqualTo(port);
          assertThat(boundMetrics).as("replica %d metrics port", index).isEqualTo(metricsPort);
          return;
        }
        if (!process.isAlive()) {
          throw new AssertionError("replica " + index + " exited: " + thisStartsLog());
        }
        Thread.sleep(100);
      }
      throw new AssertionError("replica " + index + " did not log that it listens");
    }

    private String thisStartsLog() throws IOException {
      byte[] all = Files.readAllBytes(log);
      int from = (int) Math.min(logOffset, all.length);
      return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    /** SIGKILL: the JVM gets no chance to close anything. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    void stop() throws InterruptedException {
      if (process != null && process.isAlive()) {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }

    /** keyhold_operations_total{operation="sign",outcome="ok"} from its /metrics; 0 if down. */
    long signs() {
      try {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
          if (line.startsWith("keyhold_operations_total{")
              && line.contains("operation=\"sign\"")
              && line.contains("outcome=\"ok\"")) {
            return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          }
        }
        return 0;
      } catch (IOException e) {
        return 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 0;
      }
    }
  }
}
