package dev.keyhold.bench;

import dev.keyhold.bench.load.ProcessCpu;
import dev.keyhold.bench.ops.Baselines;
import dev.keyhold.bench.ops.OpsBench;
import dev.keyhold.bench.ops.Workload;
import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.config.ServiceConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyhold-bench ops}: Sign or DecryptPremaster per second over a concurrency sweep, with
 * baselines.
 */
@Command(
    name = "ops",
    mixinStandardHelpOptions = true,
    description = {
      "Drives Sign or DecryptPremaster on one key through Keyhold over a concurrency sweep, and the"
          + " selected baselines in the same run:",
      "pkcs11-direct (same token, SunPKCS11 in this JVM; needs --config), jce (JDK software key of"
          + " equal size), openssl (openssl speed)."
    })
final class OpsCommand implements Callable<Integer> {
  @Mixin CliSupport.TargetOptions target = new CliSupport.TargetOptions();

  @ArgGroup(exclusive = false, heading = "%nOutput%n")
  CliSupport.OutputOptions output = new CliSupport.OutputOptions();

  @Option(
      names = "--key-name",
      defaultValue = "rsa2048",
      description = "the Keyhold key (PKCS#11 label) (default: ${DEFAULT-VALUE})")
  String keyName;

  @Option(
      names = "--op",
      defaultValue = "sign",
      description =
          "sign, decrypt-premaster, or get-key (the RPC alone: no HSM operation, no baselines)"
              + " (default: ${DEFAULT-VALUE})")
  String operation;

  @Option(
      names = "--scheme",
      description =
          "signature scheme, e.g. rsa_pkcs1_sha256, rsa_pss_rsae_sha256, ecdsa_secp256r1_sha256"
              + " (default: the key's first)")
  String scheme;

  @Option(
      names = {"-c", "--concurrency"},
      split = ",",
      defaultValue = "1,2,4,8,16,32,64",
      description = "in-flight operations per step (default: ${DEFAULT-VALUE})")
  List<Integer> concurrency;

  @Mixin CliSupport.StepTiming timing = new CliSupport.StepTiming();

  @Option(
      names = "--baselines",
      split = ",",
      defaultValue = "pkcs11-direct,jce,openssl",
      description = "any of pkcs11-direct, jce, openssl, or none (default: ${DEFAULT-VALUE})")
  List<String> baselines;

  @Option(
      names = "--deadline",
      defaultValue = "10s",
      converter = CliSupport.DurationConverter.class,
      description = "deadline of each Keyhold call (default: ${DEFAULT-VALUE})")
  Duration deadline;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    Workload.Operation op = Workload.Operation.parse(operation);
    Set<OpsBench.Baseline> selected = EnumSet.noneOf(OpsBench.Baseline.class);
    for (String b : baselines) {
      if (!b.equalsIgnoreCase("none")) {
        selected.add(OpsBench.Baseline.parse(b));
      }
    }
    ServiceConfig sc = target.serviceConfig();
    String resolvedTarget = target.resolvedTarget(sc);
    target.clientConfig(resolvedTarget, deadline); // checks the mTLS files before a service starts
    try (CliSupport.ServiceHandle service =
        CliSupport.service(target, resolvedTarget, output.out)) {
      // The service's real address: with listen port 0 it is known only once it runs.
      var clientConfig = target.clientConfig(service.target(), deadline);
      ProcessCpu serviceCpu = service.cpu();
      String serviceDescription = service.description();
      OpsBench.Pkcs11Source pkcs11 = sc == null ? null : name -> Baselines.pkcs11(sc.hsm(), name);
      OpsBench.Settings settings =
          new OpsBench.Settings(
              clientConfig,
              keyName,
              op,
              scheme,
              concurrency,
              timing.warmup,
              timing.firstWarmup,
              timing.duration,
              selected,
              pkcs11,
              serviceCpu,
              serviceDescription,
              CliSupport.commandLine(BenchMain.args),
              sc == null ? 0 : sc.hsm().sessions(),
              timing.jitQuietMax);
      ConsoleProgress progress = new ConsoleProgress(System.err, System.console() != null);
      BenchReport report =
          new OpsBench(
                  settings,
                  progress,
                  CliSupport.stepPrinter(progress, out, "ops"),
                  CliSupport.messagePrinter(progress))
              .run();
      String name =
          "ops-"
              + keyName
              + "-"
              + (op == Workload.Operation.SIGN
                  ? String.valueOf(report.settings().get("scheme"))
                  : op.cliName());
      CliSupport.publish(report, output, name, out);
      return 0;
    }
  }
}
