package dev.keyhold.bench.ops;

import dev.keyhold.bench.load.LoadRunner;
import dev.keyhold.bench.load.ProcessCpu;
import dev.keyhold.bench.ops.Baselines.LocalKey;
import dev.keyhold.bench.ops.KeyholdTarget.TargetException;
import dev.keyhold.bench.report.BenchReport;
import dev.keyhold.bench.report.Environment;
import dev.keyhold.bench.report.LatencySummary;
import dev.keyhold.bench.report.ModeResult;
import dev.keyhold.bench.report.Ratio;
import dev.keyhold.bench.report.StepResult;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code ops} benchmark: Sign or DecryptPremaster through Keyhold over a concurrency sweep,
 * with the selected baselines measured in the same run. Steps are interleaved by concurrency
 * (Keyhold c=1, baselines c=1, Keyhold c=2, ...) so that background load on a shared machine skews
 * the modes alike rather than one mode more than another.
 */
public final class OpsBench {
  /** The in-process baselines and the native ceiling. */
  public enum Baseline {
    PKCS11_DIRECT("pkcs11-direct"),
    JCE("jce"),
    OPENSSL("openssl");

    private final String mode;

    Baseline(String mode) {
      this.mode = mode;
    }

    public String mode() {
      return mode;
    }

    public static Baseline parse(String s) {
      for (Baseline b : values()) {
        if (b.mode.equalsIgnoreCase(s.trim())) {
          return b;
        }
      }
      throw new IllegalArgumentException(
          "baseline '" + s + "' is not one of pkcs11-direct, jce, openssl");
    }
  }

  /** Opens the Keyhold key on the same token in this JVM, for {@code pkcs11-direct}. */
  @FunctionalInterface
  public interface Pkcs11Source {
    LocalKey open(String keyName) throws GeneralSecurityException;
  }

  /**
   * One run's parameters.
   *
   * @param pkcs11 how to reach the token in-process, or null when only the remote service is known
   * @param service the service's process for CPU and RSS, or null
   * @param command the command line, recorded in the report
   */
  public record Settings(
      KeyholdClientConfig client,
      String keyName,
      Workload.Operation operation,
      String scheme,
      List<Integer> concurrency,
      Duration warmup,
      Duration firstWarmup,
      Duration duration,
      Set<Baseline> baselines,
      Pkcs11Source pkcs11,
      ProcessCpu service,
      String serviceDescription,
      String command) {

    public Settings {
      concurrency = List.copyOf(concurrency);
      baselines = baselines.isEmpty() ? Set.of() : EnumSet.copyOf(baselines);
      if (concurrency.isEmpty() || concurrency.stream().anyMatch(c -> c < 1 || c > 4096)) {
        throw new IllegalArgumentException("concurrency must be a list of 1..4096");
      }
    }
  }

  /** Called as each step finishes, with the mode name. */
  public interface StepListener {
    void stepDone(String mode, StepResult step);
  }

  private final Settings s;
  private final LoadRunner.Progress progress;
  private final StepListener listener;
  private final Consumer<String> log;

  public OpsBench(
      Settings settings,
      LoadRunner.Progress progress,
      StepListener listener,
      Consumer<String> log) {
    this.s = settings;
    this.progress = progress;
    this.listener = listener;
    this.log = log;
  }

  public BenchReport run() throws TargetException, InterruptedException, GeneralSecurityException {
    String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Environment env = Environment.capture();
    List<String> notes = new ArrayList<>();
    try (KeyholdTarget target = KeyholdTarget.connect(s.client(), s.keyName())) {
      target.checkAllowed(s.operation());
      KeyInfo key = target.key();
      Workload w =
          s.operation() == Workload.Operation.SIGN
              ? Workload.sign(target.scheme(s.scheme()))
              : Workload.decryptPremaster();

      Map<String, LoadRunner.AsyncOperation> async = new LinkedHashMap<>();
      Map<String, LoadRunner.BlockingOperation> blocking = new LinkedHashMap<>();
      Map<String, String> descriptions = new LinkedHashMap<>();
      async.put("keyhold", target.operation(w));
      descriptions.put(
          "keyhold",
          "Keyhold "
              + w.describe()
              + " over gRPC/mTLS to "
              + s.client().target()
              + ", async, in-flight = concurrency");
      if (s.baselines().contains(Baseline.PKCS11_DIRECT)) {
        if (s.pkcs11() == null) {
          notes.add("pkcs11-direct skipped: no --config to reach the token in-process");
        } else {
          LocalKey lk = s.pkcs11().open(key.getName());
          blocking.put(
              "pkcs11-direct",
              LocalSigner.operation(w, lk.privateKey(), lk.publicKey(), lk.provider()));
          descriptions.put(
              "pkcs11-direct",
              "the same token key through SunPKCS11 in the bench JVM, one thread per concurrency");
        }
      }
      if (s.baselines().contains(Baseline.JCE)) {
        LocalKey lk = Baselines.jce(key);
        blocking.put("jce", LocalSigner.operation(w, lk.privateKey(), lk.publicKey(), null));
        descriptions.put(
            "jce",
            "JDK software provider, equal-size key ("
                + keyLabel(key)
                + "), one thread per concurrency");
      }

      // Service CPU is attributed to Keyhold steps only: during a baseline the service idles.
      LoadRunner runner =
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), s.service(), progress);
      LoadRunner baselineRunner =
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), null, progress);
      Map<String, List<StepResult>> results = new LinkedHashMap<>();
      descriptions.keySet().forEach(m -> results.put(m, new ArrayList<>()));
      for (int c : s.concurrency()) {
        for (var e : async.entrySet()) {
          record(results, e.getKey(), runner.runAsync(e.getKey(), c, e.getValue()));
        }
        for (var e : blocking.entrySet()) {
          record(results, e.getKey(), baselineRunner.runBlocking(e.getKey(), c, e.getValue()));
        }
      }
      if (s.baselines().contains(Baseline.OPENSSL)) {
        runOpenssl(key, env, results, descriptions, notes);
      }

      List<ModeResult> modes = new ArrayList<>();
      results.forEach((m, steps) -> modes.add(new ModeResult(m, descriptions.get(m), steps)));
      if (s.service() == null) {
        notes.add(
            "service CPU and RSS not measured: pass --service-pid, or let the bench start the"
                + " service (--start-service)");
      } else if (s.service().isSelf()) {
        notes.add("the service ran inside the bench JVM: client CPU includes the service");
      }
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("target", s.client().target());
      settings.put("service", s.serviceDescription());
      settings.put("key", key.getName());
      settings.put("keyType", keyLabel(key));
      settings.put("operation", s.operation().cliName());
      settings.put("scheme", w.scheme() == null ? null : w.scheme().ianaName());
      settings.put("concurrency", s.concurrency());
      settings.put("warmupSeconds", s.warmup().toMillis() / 1000.0);
      settings.put("firstWarmupSeconds", s.firstWarmup().toMillis() / 1000.0);
      settings.put("durationSeconds", s.duration().toMillis() / 1000.0);
      settings.put("baselines", s.baselines().stream().map(Baseline::mode).toList());
      String title =
          "Keyhold " + w.describe() + " with " + key.getName() + " (" + keyLabel(key) + ")";
      return new BenchReport(
          "ops",
          title,
          started,
          s.command(),
          env,
          settings,
          modes,
          ratios(modes, key, w),
          derived(modes),
          notes);
    }
  }

  private void record(Map<String, List<StepResult>> results, String mode, StepResult step) {
    results.get(mode).add(step);
    listener.stepDone(mode, step);
  }

  private void runOpenssl(
      KeyInfo key,
      Environment env,
      Map<String, List<StepResult>> results,
      Map<String, String> descriptions,
      List<String> notes)
      throws InterruptedException {
    var alg = OpensslSpeed.algorithm(key);
    if (alg.isEmpty() || !OpensslSpeed.present()) {
      notes.add(
          "openssl skipped: "
              + (alg.isEmpty()
                  ? "no openssl speed algorithm for " + keyLabel(key)
                  : "no openssl binary"));
      return;
    }
    int seconds = (int) Math.max(1, Math.round(s.duration().toMillis() / 1000.0));
    List<StepResult> steps = new ArrayList<>();
    for (int c : s.concurrency()) {
      if (c > env.cpus()) {
        continue; // more processes than cores only adds scheduling noise to a CPU-bound number
      }
      log.accept("openssl speed -seconds " + seconds + " -multi " + c + " " + alg.get());
      OptionalDouble rate = OpensslSpeed.run(alg.get(), seconds, c);
      if (rate.isEmpty()) {
        notes.add("openssl speed " + alg.get() + " -multi " + c + " printed no result");
        continue;
      }
      StepResult step =
          new StepResult(
              c,
              seconds,
              Math.round(rate.getAsDouble() * seconds),
              rate.getAsDouble(),
              LatencySummary.NONE,
              Map.of(),
              null,
              null,
              null,
              null,
              null);
      steps.add(step);
      listener.stepDone("openssl", step);
    }
    if (!steps.isEmpty()) {
      results.put("openssl", steps);
      descriptions.put(
          "openssl",
          "openssl speed "
              + alg.get()
              + " (private-key ops/s, -multi = concurrency, up to the CPU count; throughput only)");
    }
  }

  /**
   * Keyhold against each baseline, per common concurrency and at peak, with the targets on
   * the peak ratios.
   */
  static List<Ratio> ratios(List<ModeResult> modes, KeyInfo key, Workload w) {
    List<Ratio> out = new ArrayList<>();
    ModeResult kh = modes.stream().filter(m -> m.mode().equals("keyhold")).findFirst().orElse(null);
    if (kh == null) {
      return out;
    }
    boolean ec = key.getKeyType() == KeyType.KEY_TYPE_EC;
    for (ModeResult b : modes) {
      if (b == kh || b.peakOpsPerSecond() <= 0) {
        continue;
      }
      Double target = b.mode().equals("pkcs11-direct") ? (ec ? 0.5 : 0.85) : null;
      out.addAll(Ratio.between(kh, b, target));
    }
    return out;
  }

  /** Keyhold's added median latency at concurrency 1 over pkcs11-direct (target ≤ 150 µs). */
  static Map<String, Object> derived(List<ModeResult> modes) {
    Map<String, Object> d = new LinkedHashMap<>();
    var kh =
        modes.stream().filter(m -> m.mode().equals("keyhold")).findFirst().flatMap(m -> m.step(1));
    var direct =
        modes.stream()
            .filter(m -> m.mode().equals("pkcs11-direct"))
            .findFirst()
            .flatMap(m -> m.step(1));
    if (kh.isPresent() && direct.isPresent() && kh.get().ops() > 0 && direct.get().ops() > 0) {
      d.put(
          "addedP50MicrosAtConcurrency1",
          round3(kh.get().latency().p50() - direct.get().latency().p50()));
      d.put("addedP50MicrosTarget", 150.0);
    }
    modes.stream()
        .filter(m -> m.mode().equals("keyhold"))
        .findFirst()
        .ifPresent(
            m -> {
              m.steps().stream()
                  .map(StepResult::serviceRssBytes)
                  .filter(x -> x != null)
                  .mapToLong(Long::longValue)
                  .max()
                  .ifPresent(rss -> d.put("serviceMaxRssMiB", round3(rss / 1048576.0)));
            });
    return d;
  }

  static String keyLabel(KeyInfo key) {
    return key.getKeyType() == KeyType.KEY_TYPE_RSA
        ? "RSA-" + key.getKeyBits()
        : "EC " + key.getCurve();
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
