package dev.keyhold.bench;

import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.bench.report.HtmlReport;
import dev.keyhold.bench.report.JsonReport;
import dev.keyhold.bench.report.TextReport;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.proto.Durations;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Options and helpers shared by the {@code ops} and {@code handshakes} commands. */
final class CliSupport {
  private CliSupport() {}

  /**
   * Parses "500ms", "3s", "2m" or a plain number of seconds: the shared grammar, {@link Durations}.
   */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String v) {
      try {
        return Durations.parse(v, TimeUnit.SECONDS);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + v + "' is not a duration like 500ms, 10s or 2m");
      }
    }
  }

  /**
   * How to reach Keyhold: mTLS material and target, or a service config the bench may start itself.
   */
  static final class TargetOptions {
    @Option(
        names = "--target",
        description = "Keyhold gRPC target host:port (default: the listen address of --config)")
    String target;

    @Option(
        names = "--ca",
        description = "CA certificate (PEM) that signed the service's certificate")
    Path ca;

    @Option(
        names = "--cert",
        description = "client certificate (PEM) the service's policy authorizes")
    Path cert;

    @Option(names = "--key", description = "the client certificate's private key (PKCS#8 PEM)")
    Path key;

    @Option(
        names = "--authority",
        description = "TLS name to expect in the service certificate (default: the target host)")
    String authority;

    @Option(
        names = "--config",
        description =
            "the service's YAML config: gives the default --target, the token for pkcs11-direct,"
                + " and what --start-service runs")
    Path config;

    @Option(
        names = "--start-service",
        description =
            "start the service from --config as a child JVM for this run, and stop it afterwards"
                + " (honest client/service CPU split)")
    boolean startService;

    @Option(
        names = "--service-jvm-arg",
        description =
            "extra JVM argument for the child service (repeatable), e.g."
                + " -XX:StartFlightRecording=filename=svc.jfr")
    List<String> serviceJvmArgs = new ArrayList<>();

    @Option(
        names = "--java-home",
        description =
            "JDK that runs the --start-service child (default: the bench's own), e.g."
                + " /usr/lib/jvm/temurin-25-jdk-amd64 to measure a newer runtime")
    Path javaHome;

    @Option(
        names = "--service-pid",
        description = "PID of a Keyhold service on this machine, to report its CPU and RSS")
    Long servicePid;

    ServiceConfig serviceConfig() {
      return config == null ? null : new ConfigLoader().load(config);
    }

    String resolvedTarget(ServiceConfig sc) {
      if (target != null) {
        return target;
      }
      if (sc == null) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--target (or --config with a listen address) is required");
      }
      ServiceConfig.HostPort hp = sc.listenAddress();
      String host = hp.host().equals("0.0.0.0") || hp.host().equals("::") ? "127.0.0.1" : hp.host();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + hp.port();
    }

    KeyholdClientConfig clientConfig(String resolvedTarget, Duration deadline) {
      if (ca == null || cert == null || key == null) {
        throw new IllegalArgumentException(
            "--ca, --cert and --key are required: Keyhold only speaks mTLS");
      }
      for (Path p : List.of(ca, cert, key)) {
        if (!Files.isReadable(p)) {
          throw new IllegalArgumentException(p + " does not exist or is not readable");
        }
      }
      KeyholdClientConfig.Builder b =
          KeyholdClientConfig.builder()
              .target(resolvedTarget)
              .trustedCa(ca)
              .clientCertificate(cert, key)
              .deadline(deadline);
      if (authority != null) {
        b.authority(authority);
      }
      return b.build();
    }
  }

  /** The service under test: started by the bench (child), or external with an optional PID. */
  record ServiceHandle(
      ChildService child, dev.keyhold.bench.load.ProcessCpu cpu, String description, String target)
      implements AutoCloseable {
    @Override
    public void close() {
      if (child != null) {
        child.close();
      }
    }
  }

  /**
   * Starts the service from --config when --start-service is given; otherwise describes the
   * external one.
   */
  static ServiceHandle service(TargetOptions t, String resolvedTarget, Path outDir)
      throws dev.keyhold.bench.ops.KeyholdTarget.TargetException, InterruptedException {
    if (t.startService) {
      if (t.config == null) {
        throw new IllegalArgumentException("--start-service needs --config");
      }
      ServiceConfig.HostPort hp = ServiceConfig.HostPort.parse(resolvedTarget, "--target");
      ChildService child;
      try {
        child =
            ChildService.start(
                t.javaHome,
                t.config.toAbsolutePath(),
                hp.host(),
                hp.port(),
                t.serviceJvmArgs,
                outDir.resolve("service.log"));
      } catch (IOException e) {
        throw new dev.keyhold.bench.ops.KeyholdTarget.TargetException(
            "cannot start Keyhold from " + t.config + ": " + e.getMessage(), e);
      }
      System.err.println("started Keyhold from " + t.config + " as pid " + child.pid());
      String actual =
          (hp.host().contains(":") ? "[" + hp.host() + "]" : hp.host()) + ":" + child.port();
      return new ServiceHandle(
          child,
          child.cpu(),
          "child JVM pid "
              + child.pid()
              + " started by the bench from "
              + t.config
              + " (log "
              + child.log()
              + ") on "
              + (t.javaHome == null ? System.getProperty("java.home") : t.javaHome),
          actual);
    }
    if (t.servicePid != null) {
      return new ServiceHandle(
          null,
          dev.keyhold.bench.load.ProcessCpu.of(t.servicePid),
          "external pid " + t.servicePid + " at " + resolvedTarget,
          resolvedTarget);
    }
    return new ServiceHandle(null, null, "external at " + resolvedTarget, resolvedTarget);
  }

  /** How long each step warms up and is measured: the same for every mode. */
  static final class StepTiming {
    @Option(
        names = "--warmup",
        defaultValue = "3s",
        converter = DurationConverter.class,
        description = "warm-up per step (default: ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(
        names = "--first-warmup",
        defaultValue = "10s",
        converter = DurationConverter.class,
        description =
            "warm-up of each mode's first step: JIT of both JVMs, connections (default:"
                + " ${DEFAULT-VALUE})")
    Duration firstWarmup;

    @Option(
        names = "--jit-quiet-max",
        defaultValue = "30s",
        converter = DurationConverter.class,
        description =
            "after every warm-up, keep warming up until the JIT compilers of the bench and the"
                + " service use under 3%% of a core for 2 s, at most this long per step (0s: don't"
                + " wait; default: ${DEFAULT-VALUE})")
    Duration jitQuietMax;

    @Option(
        names = "--duration",
        defaultValue = "10s",
        converter = DurationConverter.class,
        description = "measured time per step (default: ${DEFAULT-VALUE})")
    Duration duration;
  }

  /** Where the JSON and HTML go. */
  static final class OutputOptions {
    @Option(
        names = "--out",
        defaultValue = "bench-results",
        description = "folder for the JSON and HTML report (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(
        names = "--name",
        description = "base file name of the reports (default: derived from the run)")
    String name;

    @Option(names = "--no-html", description = "write only the JSON")
    boolean noHtml;
  }

  /** Prints the table and writes the JSON and HTML reports. */
  /**
   * Prints each finished step as a table row (the header before the first), clearing the progress
   * line.
   */
  static dev.keyhold.bench.ops.OpsBench.StepListener stepPrinter(
      ConsoleProgress progress, PrintStream out, String unit) {
    boolean[] headerShown = {false};
    return (mode, step) -> {
      progress.clear();
      if (!headerShown[0]) {
        headerShown[0] = true;
        out.println(TextReport.streamRow(TextReport.header(unit)));
      }
      out.println(TextReport.streamRow(TextReport.stepRow(mode, step)));
    };
  }

  /** Prints a bench message on stderr, clearing the progress line first. */
  static java.util.function.Consumer<String> messagePrinter(ConsoleProgress progress) {
    return msg -> {
      progress.clear();
      System.err.println(msg);
    };
  }

  static void publish(BenchReport report, OutputOptions o, String defaultName, PrintStream out)
      throws IOException {
    out.println();
    out.print(TextReport.render(report));
    String base = o.name != null ? o.name : defaultName.replaceAll("[^A-Za-z0-9._-]+", "-");
    Path json = o.out.resolve(base + ".json");
    JsonReport.write(report, json);
    out.println("JSON: " + json.toAbsolutePath());
    if (!o.noHtml) {
      Path html = o.out.resolve(base + ".html");
      HtmlReport.write(report, html);
      out.println("HTML: " + html.toAbsolutePath());
    }
  }

  /** The command line as typed, for the report. */
  static String commandLine(String[] args) {
    StringBuilder sb = new StringBuilder("keyhold-bench");
    for (String a : args) {
      sb.append(' ')
          .append(a.matches("[A-Za-z0-9_./:=,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    return sb.toString();
  }
}
