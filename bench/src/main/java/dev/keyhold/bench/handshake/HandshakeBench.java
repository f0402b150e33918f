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
 *   <li>(e) {@code netty-local}: Netty/BoringSSL with a local PEM key file.
 * </ul>
 *
 * (a) and (e) use a fresh software key of the same type and size as the Keyhold key. The servers
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
    NETTY_LOCAL("netty-local", "e");

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
              + " (d), netty-local (e)");
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
      Duration jitQuietMax) {
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

  /** A server under test. */
  private record Running(
      Server server,
      String description,
      InetSocketAddress address,
      LongSupplier failed,
      AutoCloseable closer) {}

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
        Running r = start(srv, client, files);
        if (r == null) {
          notes.add(srv.mode() + " skipped: no --config to reach the token in-process");
        } else {
          running.add(r);
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
                  + "); see the server's log line above the table");
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
          StepResult step =
              (offloaded ? keyholdRunner : localRunner).runBlocking(r.server().mode(), c, counted);
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
      Map<String, Double> settled = new java.util.TreeMap<>(keyholdRunner.jitSettleSeconds());
      settled.putAll(localRunner.jitSettleSeconds());
      settings.put("jitSettleSeconds", settled);
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

  private Running start(Server srv, KeyholdClient client, TlsMaterial.LocalFiles files)
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
          return null;
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
      default -> throw new IllegalStateException(srv.toString());
    }
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
    List<String> mismatched =
        dev.keyhold.bench.ops.OpsBench.backgroundMismatches(modes, "jsse-keyhold", "jsse-pkcs11");
    mismatched.addAll(
        dev.keyhold.bench.ops.OpsBench.backgroundMismatches(modes, "netty-keyhold", "netty-local"));
    d.put("backgroundMismatch", mismatched);
    return d;
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
