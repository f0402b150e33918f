package dev.keyhold.bench.handshake;

import dev.keyhold.bench.load.LoadRunner;
import dev.keyhold.bench.load.ProcessCpu;
import dev.keyhold.bench.load.ServiceOperations;
import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.bench.report.Environment;
import dev.keyhold.bench.report.ModeResult;
import dev.keyhold.bench.report.Ratio;
import dev.keyhold.bench.report.StepResult;
import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.netty.KeyholdSslContexts;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.demo.jsse.JsseDemoServer;
import dev.keyhold.demo.netty.NettyDemoServer;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509KeyManager;

/**
 * The {@code handshakes} benchmark: full TLS handshakes per second (no resumption) against servers
 * that differ only in where the private key lives, all in one run:
 *
 * <ul>
 *   <li>(a) {@code jsse-pkcs12}: JSSE, key in a local PKCS#12 file;
 *   <li>(b) {@code jsse-pkcs11}: JSSE, key in the token through SunPKCS11 in this JVM;
 *   <li>(c) {@code jsse-keyhold}: JSSE with {@link KeyholdKeyManager}, key offloaded to Keyhold;
 *   <li>(d) {@code netty-keyhold}: Netty/BoringSSL with Keyhold's async private-key method;
 *   <li>(e) {@code netty-local}: Netty/BoringSSL with a local PEM key file;
 *   <li>(f) {@code nginx-libp11}: Debian's nginx with the libp11 PKCS#11 engine on the same token
 *       key, as a child process ({@link NginxLibp11}).
 * </ul>
 *
 * <p>Besides handshakes per second, each step measures the server side's CPU ({@code serverCpu}):
 * the in-process server's threads plus the Keyhold service for (c) and (d), nginx's master and
 * workers for (f); the report derives handshakes per server CPU-second from it.
 *
 * <p>(a) and (e) use a fresh software key of the same type and size as the Keyhold key. The servers
 * are the demo servers (JSSE: a worker pool; Netty: the same event-loop count for d and e) and run
 * in this JVM; the JSSE client runs here too, one thread per concurrency. Steps are interleaved by
 * concurrency, as in {@code ops}.
 */
public final class HandshakeBench {
  /** The servers, by mode name. */
  public enum Server {
    JSSE_PKCS12("jsse-pkcs12", "a"),
    JSSE_PKCS11("jsse-pkcs11", "b"),
    JSSE_KEYHOLD("jsse-keyhold", "c"),
    NETTY_KEYHOLD("netty-keyhold", "d"),
    NETTY_LOCAL("netty-local", "e"),
    NGINX_LIBP11("nginx-libp11", "f");

    private final String mode;
    private final String letter;

    Server(String mode, String letter) {
      this.mode = mode;
      this.letter = letter;
    }

    public String mode() {
      return mode;
    }

    public static Server parse(String s) {
      for (Server x : values()) {
        if (x.mode.equalsIgnoreCase(s.trim()) || x.letter.equalsIgnoreCase(s.trim())) {
          return x;
        }
      }
      throw new IllegalArgumentException(
          "server '"
              + s
              + "' is not one of jsse-pkcs12 (a), jsse-pkcs11 (b), jsse-keyhold (c), netty-keyhold"
              + " (d), netty-local (e), nginx-libp11 (f)");
    }
  }

  /** Opens the token's key store in this JVM, for (b). */
  @FunctionalInterface
  public interface Pkcs11KeyStore {
    KeyStore open() throws Exception;
  }

  /**
   * @param keyholdClient how to reach Keyhold for (c) and (d)
   * @param pkcs11 the token for (b), or null to skip it
   * @param jsseWorkers JSSE server worker threads (blocking: it must cover the concurrency, or the
   *     server queues)
   * @param eventLoops Netty worker event-loop threads, the same for (d) and (e)
   * @param protocols client protocols, e.g. TLSv1.3; null for the default
   * @param cipherSuites client cipher suites, e.g. TLS_RSA_WITH_AES_128_GCM_SHA256 for RSA key
   *     exchange; null for the default
   * @param workDir where the local key files for (a) and (e) are written
   * @param serviceOps the service's operation counter (its /metrics), or null: with it, each
   *     Keyhold step checks that the service completed exactly one operation per handshake
   * @param nginxToken the token for (f), or null to skip it
   */
  public record Settings(
      KeyholdClientConfig keyholdClient,
      String keyName,
      List<Server> servers,
      Pkcs11KeyStore pkcs11,
      List<Integer> concurrency,
      Duration warmup,
      Duration firstWarmup,
      Duration duration,
      int jsseWorkers,
      int eventLoops,
      String[] protocols,
      String[] cipherSuites,
      Path workDir,
      ProcessCpu service,
      String serviceDescription,
      String command,
      ServiceOperations serviceOps,
      Duration jitQuietMax,
      NginxLibp11.Token nginxToken) {
    public Settings {
      jitQuietMax = jitQuietMax == null ? Duration.ZERO : jitQuietMax;
    }
  }

  private final Settings s;
  private final LoadRunner.Progress progress;
  private final dev.keyhold.bench.ops.OpsBench.StepListener listener;
  private final Consumer<String> log;

  public HandshakeBench(
      Settings settings,
      LoadRunner.Progress progress,
      dev.keyhold.bench.ops.OpsBench.StepListener listener,
      Consumer<String> log) {
    this.s = settings;
    this.progress = progress;
    this.listener = listener;
    this.log = log;
  }

  /**
   * A server under test.
   *
   * @param external the server's own process (nginx), or null when it runs in this JVM
   * @param lastProblem why the server's last handshake failed, from its log, or null
   */
  private record Running(
      Server server,
      String description,
      InetSocketAddress address,
      LongSupplier failed,
      AutoCloseable closer,
      ProcessCpu external,
      Supplier<String> lastProblem) {
    Running(
        Server server,
        String description,
        InetSocketAddress address,
        LongSupplier failed,
        AutoCloseable closer) {
      this(server, description, address, failed, closer, null, null);
    }
  }

  /** A server that cannot run here, with the reason for the report. */
  private static final class Skipped extends Exception {
    private static final long serialVersionUID = 1L;

    Skipped(String reason) {
      super(reason);
    }
  }

  public BenchReport run() throws Exception {
    String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Environment env = Environment.capture();
    List<String> notes = new ArrayList<>();
    List<Running> running = new ArrayList<>();
    // The same preflight as ops: a clear message when the target is unreachable or the key unknown.
    try (dev.keyhold.bench.ops.KeyholdTarget target =
        dev.keyhold.bench.ops.KeyholdTarget.connect(s.keyholdClient(), s.keyName())) {
      KeyholdClient client = target.client();
      KeyInfo key = target.key();
      boolean rsa = key.getKeyType() == KeyType.KEY_TYPE_RSA;
      TlsMaterial.LocalFiles files =
          TlsMaterial.generate(s.workDir(), rsa, key.getKeyBits(), key.getCurve());
      for (Server srv : s.servers()) {
        try {
          running.add(start(srv, client, key, files));
        } catch (Skipped e) {
          notes.add(srv.mode() + " skipped: " + e.getMessage());
          log.accept(srv.mode() + " skipped: " + e.getMessage());
        }
      }
      HandshakeClient tlsClient = new HandshakeClient(s.protocols(), s.cipherSuites());
      Map<String, String> negotiated = new LinkedHashMap<>();
      // One probe handshake per server: a server that cannot complete one (a key type the
      // negotiated protocol cannot use, a provider that cannot sign) is reported and dropped,
      // not allowed to abort the other measurements.
      for (var it = running.iterator(); it.hasNext(); ) {
        Running r = it.next();
        try {
          negotiated.put(r.server().mode(), tlsClient.probe(r.address()));
          log.accept(
              r.server().mode() + ": " + negotiated.get(r.server().mode()) + " on " + r.address());
        } catch (java.io.IOException e) {
          notes.add(
              r.server().mode()
                  + " skipped: its first handshake failed ("
                  + e.getMessage()
                  + ")"
                  + (r.lastProblem() == null
                      ? "; see the server's log line above the table"
                      : "; the server logged: " + r.lastProblem().get()));
          log.accept(r.server().mode() + ": first handshake failed, skipped: " + e.getMessage());
          r.closer().close();
          it.remove();
        }
      }

      LoadRunner keyholdRunner =
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), s.service(), progress)
              .untilJitQuiet(s.jitQuietMax());
      LoadRunner localRunner =
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), null, progress)
              .untilJitQuiet(s.jitQuietMax());
      localRunner.excludingFromBackground(s.service());
      // A server in its own process (nginx): its CPU is the step's server CPU, not background.
      LoadRunner externalRunner =
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), null, progress)
              .untilJitQuiet(s.jitQuietMax())
              .excludingFromBackground(
                  Stream.concat(Stream.of(s.service()), running.stream().map(Running::external))
                      .toArray(ProcessCpu[]::new));
      Map<String, List<StepResult>> results = new LinkedHashMap<>();
      Map<String, Object> derived = new LinkedHashMap<>();
      Map<String, String> perHandshake = new LinkedHashMap<>();
      running.forEach(r -> results.put(r.server().mode(), new ArrayList<>()));
      for (int c : s.concurrency()) {
        for (Running r : running) {
          boolean offloaded =
              r.server() == Server.JSSE_KEYHOLD || r.server() == Server.NETTY_KEYHOLD;
          LongAdder handshakes = new LongAdder();
          LoadRunner.BlockingOperation connect = tlsClient.against(r.address());
          LoadRunner.BlockingOperation counted =
              () -> {
                connect.run();
                handshakes.increment();
              };
          OptionalLong ops0 =
              offloaded && s.serviceOps() != null ? s.serviceOps().okTotal() : OptionalLong.empty();
          LoadRunner runner =
              offloaded ? keyholdRunner : r.external() != null ? externalRunner : localRunner;
          // The server side's CPU: nginx's processes; or this JVM's server threads, plus the
          // Keyhold service when the key is offloaded (unknown without the service's pid).
          LoadRunner.CpuProbe serverCpu =
              r.external() != null
                  ? r.external()::cpuNanos
                  : offloaded && s.service() == null
                      ? null
                      : LoadRunner.inProcessServer(offloaded ? s.service() : null);
          StepResult step = runner.runBlocking(r.server().mode(), c, counted, serverCpu);
          // The service counts an operation as its response is sent, so the last ones may land just
          // after the client saw them: read again (briefly) while it is still short.
          OptionalLong ops1 = ops0.isPresent() ? s.serviceOps().okTotal() : OptionalLong.empty();
          for (int i = 0;
              i < 40 && ops1.isPresent() && ops1.getAsLong() - ops0.getAsLong() < handshakes.sum();
              i++) {
            Thread.sleep(50);
            ops1 = s.serviceOps().okTotal();
          }
          if (ops0.isPresent() && ops1.isPresent()) {
            String where = r.server().mode() + " c=" + c;
            long ops = ops1.getAsLong() - ops0.getAsLong();
            perHandshake.put(where, ops + " ops / " + handshakes.sum() + " handshakes");
            if (ops != handshakes.sum()) {
              notes.add(
                  where
                      + ": the service completed "
                      + ops
                      + " operations for "
                      + handshakes.sum()
                      + " handshakes (all phases): not one per full handshake");
            }
          }
          results.get(r.server().mode()).add(step);
          listener.stepDone(r.server().mode(), step);
        }
      }
      List<ModeResult> modes = new ArrayList<>();
      for (Running r : running) {
        modes.add(
            new ModeResult(
                r.server().mode(),
                r.description() + "; negotiated " + negotiated.get(r.server().mode()),
                results.get(r.server().mode())));
        long failed = r.failed().getAsLong();
        if (failed > 0) {
          notes.add(r.server().mode() + ": the server counted " + failed + " failed handshakes");
        }
      }
      notes.add(
          "client and the JSSE/Netty servers share the bench JVM; client CPU is both. The client"
              + " trusts any server certificate (chain checks are equal in every mode) but verifies"
              + " the handshake signature.");
      if (s.service() == null) {
        notes.add("Keyhold service CPU not measured: pass --service-pid, or --start-service");
      }
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("target", s.keyholdClient().target());
      settings.put("service", s.serviceDescription());
      settings.put("key", key.getName());
      settings.put("keyType", rsa ? "RSA-" + key.getKeyBits() : "EC " + key.getCurve());
      settings.put("servers", s.servers().stream().map(Server::mode).toList());
      settings.put("concurrency", s.concurrency());
      settings.put("warmupSeconds", s.warmup().toMillis() / 1000.0);
      settings.put("firstWarmupSeconds", s.firstWarmup().toMillis() / 1000.0);
      settings.put("jitQuietMaxSeconds", s.jitQuietMax().toMillis() / 1000.0);
      LoadRunner.recordJitSettling(settings, notes, keyholdRunner, localRunner, externalRunner);
      settings.put("durationSeconds", s.duration().toMillis() / 1000.0);
      settings.put("jsseWorkerThreads", s.jsseWorkers());
      settings.put("nettyEventLoopThreads", s.eventLoops());
      settings.put(
          "clientProtocols", s.protocols() == null ? "default" : String.join(",", s.protocols()));
      settings.put(
          "clientCipherSuites",
          s.cipherSuites() == null ? "default" : String.join(",", s.cipherSuites()));
      settings.put("resumption", "none: every client session is invalidated after its connection");
      String title =
          "TLS handshakes/s with "
              + key.getName()
              + " ("
              + settings.get("keyType")
              + "), no resumption";
      return new BenchReport(
          "handshakes",
          title,
          started,
          s.command(),
          env,
          settings,
          modes,
          ratios(modes),
          derivedFigures(modes, derived, perHandshake),
          notes);
    } finally {
      for (Running r : running) {
        try {
          r.closer().close();
        } catch (Exception e) {
          log.accept("closing " + r.server().mode() + ": " + e.getMessage());
        }
      }
    }
  }

  private Running start(Server srv, KeyholdClient client, KeyInfo key, TlsMaterial.LocalFiles files)
      throws Exception {
    switch (srv) {
      case JSSE_PKCS12 -> {
        return jsse(
            srv,
            TlsMaterial.pkcs12KeyManager(files),
            "JSSE demo server, key in local PKCS#12 file " + files.pkcs12().getFileName());
      }
      case JSSE_PKCS11 -> {
        if (s.pkcs11() == null) {
          throw new Skipped("no --config to reach the token in-process");
        }
        KeyStore ks = s.pkcs11().open();
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(ks, new char[0]);
        return jsse(
            srv,
            TlsMaterial.singleAlias((X509KeyManager) kmf.getKeyManagers()[0], s.keyName()),
            "JSSE demo server, token key through SunPKCS11 in-process");
      }
      case JSSE_KEYHOLD -> {
        return jsse(
            srv,
            KeyholdKeyManager.create(client, s.keyName()),
            "JSSE demo server with KeyholdKeyManager (key offloaded)");
      }
      case NETTY_KEYHOLD -> {
        return netty(
            srv,
            KeyholdSslContexts.forServer(client, s.keyName()),
            "Netty/BoringSSL demo server, Keyhold async private-key method");
      }
      case NETTY_LOCAL -> {
        SslContext ctx =
            SslContextBuilder.forServer(files.certPem().toFile(), files.keyPem().toFile())
                .sslProvider(SslProvider.OPENSSL)
                .protocols("TLSv1.3", "TLSv1.2")
                .ciphers(KeyholdSslContexts.DEFAULT_SERVER_CIPHERS)
                .build();
        return netty(
            srv,
            ctx,
            "Netty/BoringSSL demo server, key in local PEM file " + files.keyPem().getFileName());
      }
      case NGINX_LIBP11 -> {
        return nginx(srv, key);
      }
      default -> throw new IllegalStateException(srv.toString());
    }
  }

  private Running nginx(Server srv, KeyInfo key) throws Exception {
    if (s.nginxToken() == null) {
      throw new Skipped("no --config to reach the token (library, label, PIN)");
    }
    if (s.nginxToken().label() == null || s.nginxToken().pin() == null) {
      throw new Skipped("the config names no hsm.tokenLabel and hsm.pin (libp11 needs both)");
    }
    NginxLibp11.Install install;
    try {
      install = NginxLibp11.locate();
    } catch (NginxLibp11.MissingException e) {
      throw new Skipped(e.getMessage());
    }
    if (key.getCertificateChainCount() == 0) {
      throw new Skipped("key " + key.getName() + " has no certificate in Keyhold to serve");
    }
    java.security.cert.X509Certificate leaf =
        (java.security.cert.X509Certificate)
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new java.io.ByteArrayInputStream(key.getCertificateChain(0).toByteArray()));
    NginxLibp11 nginx;
    try {
      nginx =
          NginxLibp11.start(
              install,
              s.workDir().resolve("nginx-libp11"),
              s.nginxToken(),
              key.getName(),
              leaf,
              s.eventLoops());
    } catch (java.io.IOException e) {
      throw new Skipped("nginx did not start: " + e.getMessage());
    }
    return new Running(
        srv,
        install.nginx()
            + " with the libp11 engine "
            + install.engine()
            + ", token key through PKCS#11 in nginx's workers, "
            + s.eventLoops()
            + " worker processes",
        new InetSocketAddress("127.0.0.1", nginx.port()),
        nginx::handshakesFailed,
        nginx,
        nginx.cpu(),
        nginx::lastProblem);
  }

  private Running jsse(Server srv, KeyManager km, String description) throws Exception {
    SSLContext ctx = JsseDemoServer.sslContext(km, null);
    JsseDemoServer server =
        JsseDemoServer.builder(ctx)
            .keyManager(km)
            .host("127.0.0.1")
            .port(0)
            .clientAuth(JsseDemoServer.ClientAuth.NONE)
            .workerThreads(s.jsseWorkers())
            .start();
    return new Running(
        srv,
        description + ", " + s.jsseWorkers() + " worker threads",
        new InetSocketAddress("127.0.0.1", server.port()),
        server::handshakesFailed,
        server);
  }

  private Running netty(Server srv, SslContext ctx, String description) throws Exception {
    NettyDemoServer.Handle h;
    try {
      h = NettyDemoServer.start(ctx, "127.0.0.1", 0, s.eventLoops());
    } catch (RuntimeException | InterruptedException e) {
      ReferenceCountUtil.release(ctx);
      throw e;
    }
    return new Running(
        srv,
        description + ", " + s.eventLoops() + " event-loop threads",
        new InetSocketAddress("127.0.0.1", h.port()),
        h::handshakesFailed,
        () -> {
          h.close();
          ReferenceCountUtil.release(ctx);
        });
  }

  /**
   * Service operations per handshake (Keyhold steps, with /metrics) and each mode's saturation
   * concurrency.
   */
  static Map<String, Object> derivedFigures(
      List<ModeResult> modes, Map<String, Object> d, Map<String, String> perHandshake) {
    if (!perHandshake.isEmpty()) {
      d.put("keyholdOperationsPerHandshakes", perHandshake);
    }
    Map<String, Integer> saturation = new LinkedHashMap<>();
    for (ModeResult m : modes) {
      dev.keyhold.bench.ops.OpsBench.saturationConcurrency(m)
          .ifPresent(c -> saturation.put(m.mode(), c));
    }
    if (!saturation.isEmpty()) {
      d.put("saturationConcurrency", saturation);
    }
    Map<String, Map<String, Double>> perCpu = new LinkedHashMap<>();
    Map<String, Map<String, Double>> jvmShared = new LinkedHashMap<>();
    for (ModeResult m : modes) {
      for (StepResult st : m.steps()) {
        if (st.serverCpu() != null && st.serverCpu().microsPerOp() > 0) {
          perCpu
              .computeIfAbsent(m.mode(), k -> new LinkedHashMap<>())
              .put("c=" + st.concurrency(), perCpuSecond(st));
        }
        if (st.jvmInternalCpu() != null && st.ops() > 0) {
          jvmShared
              .computeIfAbsent(m.mode(), k -> new LinkedHashMap<>())
              .put("c=" + st.concurrency(), st.jvmInternalCpu().microsPerOp());
        }
      }
    }
    if (!perCpu.isEmpty()) {
      d.put("handshakesPerServerCpuSecond", perCpu);
      d.put("benchJvmInternalCpuMicrosPerHandshake", jvmShared);
    }
    for (String mode : List.of("netty-keyhold", "jsse-keyhold", "netty-local")) {
      Double r = perCpuRatio(modes, mode, "nginx-libp11");
      if (r != null) {
        d.put(perCpuRatioKey(mode, "nginx-libp11"), r);
      }
    }
    List<String> mismatched =
        dev.keyhold.bench.ops.OpsBench.backgroundMismatches(modes, "jsse-keyhold", "jsse-pkcs11");
    mismatched.addAll(
        dev.keyhold.bench.ops.OpsBench.backgroundMismatches(modes, "netty-keyhold", "netty-local"));
    d.put("backgroundMismatch", mismatched);
    return d;
  }

  /** Handshakes per CPU-second of the server side: 10^6 / server CPU µs per handshake. */
  static double perCpuSecond(StepResult st) {
    return Math.round(1e7 / st.serverCpu().microsPerOp()) / 10.0;
  }

  /** The derived key of {@link #perCpuRatio}, e.g. {@code netty-keyhold/nginx-libp11...}. */
  public static String perCpuRatioKey(String mode, String baseline) {
    return "perServerCpuSecond:" + mode + "/" + baseline;
  }

  /**
   * Handshakes per server CPU-second of {@code mode} over {@code baseline}'s, at the highest
   * concurrency both measured with server CPU (where both servers are saturated, the figure that
   * sizes a fleet); null when they share none.
   */
  static Double perCpuRatio(List<ModeResult> modes, String mode, String baseline) {
    ModeResult x = modes.stream().filter(m -> m.mode().equals(mode)).findFirst().orElse(null);
    ModeResult y = modes.stream().filter(m -> m.mode().equals(baseline)).findFirst().orElse(null);
    if (x == null || y == null) {
      return null;
    }
    for (int i = x.steps().size() - 1; i >= 0; i--) {
      StepResult a = x.steps().get(i);
      if (a.serverCpu() == null || a.serverCpu().microsPerOp() <= 0) {
        continue;
      }
      StepResult b = y.step(a.concurrency()).orElse(null);
      if (b != null && b.serverCpu() != null && b.serverCpu().microsPerOp() > 0) {
        return Math.round(perCpuSecond(a) / perCpuSecond(b) * 1000) / 1000.0;
      }
    }
    return null;
  }

  /**
   * (c)/(b), (c)/(a), (d)/(e) at peak and per concurrency; the targets: 0.95 for JSSE
   * against SunPKCS11 in-process, 0.9 for Netty against a local key (every key type and suite).
   */
  static List<Ratio> ratios(List<ModeResult> modes) {
    List<Ratio> out = new ArrayList<>();
    pair(out, modes, "jsse-keyhold", "jsse-pkcs11", 0.95);
    pair(out, modes, "jsse-keyhold", "jsse-pkcs12", null);
    pair(out, modes, "netty-keyhold", "netty-local", 0.9);
    pair(out, modes, "netty-keyhold", "jsse-keyhold", null);
    pair(out, modes, "netty-keyhold", "nginx-libp11", null);
    return out;
  }

  private static void pair(
      List<Ratio> out, List<ModeResult> modes, String a, String b, Double target) {
    ModeResult x = modes.stream().filter(m -> m.mode().equals(a)).findFirst().orElse(null);
    ModeResult y = modes.stream().filter(m -> m.mode().equals(b)).findFirst().orElse(null);
    if (x != null && y != null) {
      out.addAll(Ratio.between(x, y, target));
    }
  }
}
