package dev.keyhold.bench;

import dev.keyhold.bench.handshake.HandshakeBench;
import dev.keyhold.bench.ops.Baselines;
import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.service.api.LocalHsm;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyhold-bench handshakes}: full TLS handshakes per second by where the server key lives.
 */
@Command(
    name = "handshakes",
    mixinStandardHelpOptions = true,
    description = {
      "Full TLS handshakes per second (no resumption) in one run against demo servers whose key"
          + " is:",
      "(a) jsse-pkcs12: a local PKCS#12 file, (b) jsse-pkcs11: the token via in-process SunPKCS11"
          + " (needs --config),",
      "(c) jsse-keyhold: offloaded via KeyholdKeyManager, (d) netty-keyhold: Netty/BoringSSL +"
          + " Keyhold async,",
      "(e) netty-local: Netty/BoringSSL with a local key file, (f) nginx-libp11: Debian's nginx"
          + " with the libp11 PKCS#11 engine on the same token key (with --baselines"
          + " nginx-libp11; needs --config).",
      "Reports (c)/(b), (c)/(a), (d)/(e), and handshakes per server CPU-second (the Keyhold"
          + " service's CPU counted with the app server's)."
    })
final class HandshakesCommand implements Callable<Integer> {
  @Mixin CliSupport.TargetOptions target = new CliSupport.TargetOptions();

  @ArgGroup(exclusive = false, heading = "%nOutput%n")
  CliSupport.OutputOptions output = new CliSupport.OutputOptions();

  @Option(
      names = "--key-name",
      defaultValue = "rsa2048",
      description = "the server key in Keyhold (and on the token) (default: ${DEFAULT-VALUE})")
  String keyName;

  @Option(
      names = "--servers",
      split = ",",
      defaultValue = "a,b,c,d,e",
      description = "which servers, by letter or name (default: ${DEFAULT-VALUE})")
  List<String> servers;

  @Option(
      names = {"-c", "--concurrency"},
      split = ",",
      defaultValue = "1,4,16",
      description = "client connections in flight (threads) per step (default: ${DEFAULT-VALUE})")
  List<Integer> concurrency;

  @Option(
      names = "--baselines",
      split = ",",
      description =
          "servers outside the JVM to add: nginx-libp11 (needs nginx and libengine-pkcs11-openssl:"
              + " bench/install-nginx-libp11.sh installs them; without them the report says what"
              + " is missing)")
  List<String> baselines = List.of();

  @Mixin CliSupport.StepTiming timing = new CliSupport.StepTiming();

  @Option(
      names = "--event-loops",
      defaultValue = "2",
      description =
          "Netty worker event-loop threads, the same for (d) and (e) (default: ${DEFAULT-VALUE})")
  int eventLoops;

  @Option(
      names = "--jsse-workers",
      defaultValue = "64",
      description =
          "JSSE server worker threads; blocking handshakes need one per connection in flight"
              + " (default: ${DEFAULT-VALUE})")
  int jsseWorkers;

  @Option(
      names = "--tls",
      description = "client protocol, e.g. TLSv1.3 or TLSv1.2 (default: the JDK's, TLS 1.3)")
  String protocol;

  @Option(
      names = "--cipher",
      split = ",",
      description =
          "client cipher suites, e.g. TLS_RSA_WITH_AES_128_GCM_SHA256 (with --tls TLSv1.2) to"
              + " exercise DecryptPremaster")
  List<String> ciphers;

  @Option(
      names = "--deadline",
      defaultValue = "10s",
      converter = CliSupport.DurationConverter.class,
      description = "deadline of each Keyhold call (default: ${DEFAULT-VALUE})")
  Duration deadline;

  @Option(
      names = "--metrics-url",
      description =
          "the service's Prometheus endpoint, to check one Keyhold operation per handshake"
              + " (default: http://LISTEN/metrics from the metrics section of --config)")
  java.net.URI metricsUrl;

  /** The explicit URL, else the config's metrics listen address, else none. */
  static java.net.URI metricsUri(java.net.URI explicit, ServiceConfig sc) {
    if (explicit != null) {
      return explicit;
    }
    if (sc == null || sc.metricsListen() == null) {
      return null;
    }
    ServiceConfig.HostPort hp = ServiceConfig.HostPort.parse(sc.metricsListen(), "metrics.listen");
    if (hp.port() == 0) {
      return null;
    }
    String host = hp.host().equals("0.0.0.0") || hp.host().equals("::") ? "127.0.0.1" : hp.host();
    return java.net.URI.create(
        "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + hp.port() + "/metrics");
  }

  /** The servers, then the external baselines (nginx-libp11 only so far). */
  static List<HandshakeBench.Server> selectedServers(List<String> servers, List<String> baselines) {
    List<HandshakeBench.Server> out = new java.util.ArrayList<>();
    for (String s : servers) {
      out.add(HandshakeBench.Server.parse(s));
    }
    for (String b : baselines) {
      if (!b.trim().equalsIgnoreCase(HandshakeBench.Server.NGINX_LIBP11.mode())) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(new HandshakesCommand()),
            "--baselines: '" + b + "' is not a handshake baseline (only nginx-libp11)");
      }
      out.add(HandshakeBench.Server.NGINX_LIBP11);
    }
    return out.stream().distinct().toList();
  }

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    List<HandshakeBench.Server> selected =
        selectedServers(servers, baselines == null ? List.of() : baselines);
    ServiceConfig sc = target.serviceConfig();
    String resolvedTarget = target.resolvedTarget(sc);
    target.clientConfig(resolvedTarget, deadline); // checks the mTLS files before a service starts
    try (CliSupport.ServiceHandle service =
        CliSupport.service(target, resolvedTarget, output.out)) {
      // The service's real address: with listen port 0 it is known only once it runs.
      var clientConfig = target.clientConfig(service.target(), deadline);
      HandshakeBench.Pkcs11KeyStore pkcs11 =
          sc == null
              ? null
              : () -> {
                java.security.Provider p = LocalHsm.openProvider(sc.hsm());
                // JSSE looks signatures up by name among installed providers (delayed provider
                // selection), so a SunPKCS11 key only works in JSSE once its provider is installed.
                // Appended last, it serves only keys that no software provider can use.
                java.security.Security.addProvider(p);
                return Baselines.pkcs11KeyStore(p, sc.hsm());
              };
      HandshakeBench.Settings settings =
          new HandshakeBench.Settings(
              clientConfig,
              keyName,
              selected,
              pkcs11,
              concurrency,
              timing.warmup,
              timing.firstWarmup,
              timing.duration,
              jsseWorkers,
              eventLoops,
              protocol == null ? null : new String[] {protocol},
              ciphers == null ? null : ciphers.toArray(String[]::new),
              output.out.resolve("keys"),
              service.cpu(),
              service.description(),
              CliSupport.commandLine(BenchMain.args),
              metricsUri(metricsUrl, sc) == null
                  ? null
                  : new dev.keyhold.bench.load.ServiceOperations(metricsUri(metricsUrl, sc)),
              timing.jitQuietMax,
              sc == null
                  ? null
                  : new dev.keyhold.bench.handshake.NginxLibp11.Token(
                      sc.hsm().library(), sc.hsm().tokenLabel(), sc.hsm().pin()));
      ConsoleProgress progress = new ConsoleProgress(System.err, System.console() != null);
      BenchReport report =
          new HandshakeBench(
                  settings,
                  progress,
                  CliSupport.stepPrinter(progress, out, "hs"),
                  CliSupport.messagePrinter(progress))
              .run();
      CliSupport.publish(
          report, output, "handshakes-" + keyName + (protocol == null ? "" : "-" + protocol), out);
      return 0;
    }
  }
}
