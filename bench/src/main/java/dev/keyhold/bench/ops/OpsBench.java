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
import java.util.OptionalLong;
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
   * @param hsmSessions the service's {@code hsm.sessions}, or 0 when unknown: pkcs11-direct also
   *     runs with that many threads, so Keyhold is compared at equal HSM concurrency too
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
      String command,
      int hsmSessions,
      Duration jitQuietMax) {

    public Settings {
      concurrency = List.copyOf(concurrency);
      baselines = baselines.isEmpty() ? Set.of() : EnumSet.copyOf(baselines);
      if (concurrency.isEmpty() || concurrency.stream().anyMatch(c -> c < 1 || c > 4096)) {
        throw new IllegalArgumentException("concurrency must be a list of 1..4096");
      }
      jitQuietMax = jitQuietMax == null ? Duration.ZERO : jitQuietMax;
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
          switch (s.operation()) {
            case SIGN -> Workload.sign(target.scheme(s.scheme()));
            case DECRYPT_PREMASTER -> Workload.decryptPremaster();
            case GET_KEY -> Workload.getKey();
          };
      boolean rpcOnly = s.operation() == Workload.Operation.GET_KEY;
      if (rpcOnly && !s.baselines().isEmpty()) {
        notes.add("baselines skipped: get-key has no private-key step to compare with");
      }

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
      if (!rpcOnly && s.baselines().contains(Baseline.PKCS11_DIRECT)) {
        if (s.pkcs11() == null) {
          notes.add("pkcs11-direct skipped: no --config to reach the token in-process");
        } else {
          LocalKey lk = s.pkcs11().open(key.getName());
          blocking.put(
              "pkcs11-direct",
              LocalSigner.operation(w, lk.privateKey(), lk.publicKey(), lk.provider()));
          descriptions.put(
              "pkcs11-direct",
              "the same token key through SunPKCS11 in the bench JVM, one thread per concurrency"
                  + (s.hsmSessions() > 0
                      ? "; also at "
                          + s.hsmSessions()
                          + " threads = the service's hsm.sessions (equal HSM concurrency)"
                      : ""));
        }
      }
      if (!rpcOnly && s.baselines().contains(Baseline.JCE)) {
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
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), s.service(), progress)
              .untilJitQuiet(s.jitQuietMax());
      LoadRunner baselineRunner =
          new LoadRunner(s.warmup(), s.firstWarmup(), s.duration(), null, progress)
              .excludingFromBackground(s.service())
              .untilJitQuiet(s.jitQuietMax());
      Map<String, List<StepResult>> results = new LinkedHashMap<>();
      descriptions.keySet().forEach(m -> results.put(m, new ArrayList<>()));
      for (int c :
          sweep(s.concurrency(), blocking.containsKey("pkcs11-direct") ? s.hsmSessions() : 0)) {
        boolean listed = s.concurrency().contains(c);
        if (listed) {
          for (var e : async.entrySet()) {
            record(results, e.getKey(), runner.runAsync(e.getKey(), c, e.getValue()));
          }
        }
        for (var e : blocking.entrySet()) {
          if (listed || e.getKey().equals("pkcs11-direct")) {
            record(results, e.getKey(), baselineRunner.runBlocking(e.getKey(), c, e.getValue()));
          }
        }
      }
      if (!rpcOnly && s.baselines().contains(Baseline.OPENSSL)) {
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
      settings.put("jitQuietMaxSeconds", s.jitQuietMax().toMillis() / 1000.0);
      LoadRunner.recordJitSettling(settings, notes, runner, baselineRunner);
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
          ratios(modes, key, w, s.hsmSessions()),
          derived(modes, w, s.hsmSessions(), notes),
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
    Map<Integer, StepResult> byProcesses = new LinkedHashMap<>();
    for (int c : s.concurrency()) {
      // Processes = concurrency, capped at the CPU count, for every step: so "peak" compares equal
      // cores, and one -multi value is run once and shared by the concurrencies that map to it.
      int processes = opensslProcesses(c, env.cpus());
      StepResult measured = byProcesses.get(processes);
      if (measured == null && !byProcesses.containsKey(processes)) {
        log.accept(
            "openssl speed -elapsed -seconds "
                + seconds
                + " -multi "
                + processes
                + " "
                + alg.get());
        OptionalLong machine0 = ProcessCpu.machineBusyNanos();
        OptionalLong self0 = ProcessCpu.self().cpuNanos();
        OptionalLong kids0 = ProcessCpu.waitedChildrenCpuNanos();
        var result = OpensslSpeed.run(alg.get(), seconds, processes);
        OptionalLong machine1 = ProcessCpu.machineBusyNanos();
        OptionalLong self1 = ProcessCpu.self().cpuNanos();
        OptionalLong kids1 = ProcessCpu.waitedChildrenCpuNanos();
        if (result.isEmpty()) {
          notes.add("openssl speed " + alg.get() + " -multi " + processes + " printed no result");
          byProcesses.put(processes, null);
          continue;
        }
        // openssl runs a sign phase and a verify phase: the background is taken over both.
        double wall = result.get().seconds() * 2;
        measured =
            opensslStep(
                c,
                result.get(),
                kids0.isPresent() && kids1.isPresent()
                    ? StepResult.CpuUsage.of(
                        kids1.getAsLong() - kids0.getAsLong(), wall, result.get().ops())
                    : null,
                LoadRunner.background(
                    machine0, machine1, List.of(self0, kids0), List.of(self1, kids1), wall));
        byProcesses.put(processes, measured);
      }
      if (measured == null) {
        continue;
      }
      StepResult step = withConcurrency(measured, c);
      steps.add(step);
      listener.stepDone("openssl", step);
    }
    if (!steps.isEmpty()) {
      results.put("openssl", steps);
      descriptions.put(
          "openssl",
          "openssl speed -elapsed "
              + alg.get()
              + " (private-key ops and wall seconds as measured by each process; -multi ="
              + " concurrency capped at the "
              + env.cpus()
              + " CPUs, so concurrencies above it share that one run; throughput only)");
    }
  }

  /** {@code -multi} for a concurrency: the concurrency, capped at the CPU count. */
  static int opensslProcesses(int concurrency, int cpus) {
    return Math.max(1, Math.min(concurrency, cpus));
  }

  static StepResult opensslStep(
      int concurrency, OpensslSpeed.Result r, StepResult.CpuUsage cpu, Double background) {
    return new StepResult(
        concurrency,
        r.seconds(),
        r.ops(),
        r.opsPerSecond(),
        LatencySummary.NONE,
        Map.of(),
        cpu,
        null,
        null,
        null,
        null,
        null,
        background,
        null,
        null);
  }

  private static StepResult withConcurrency(StepResult x, int c) {
    return new StepResult(
        c,
        x.seconds(),
        x.ops(),
        x.opsPerSecond(),
        x.latency(),
        x.errors(),
        x.clientCpu(),
        x.serviceCpu(),
        x.serviceRssStartBytes(),
        x.serviceRssBytes(),
        x.histogram(),
        x.servicePeakRssBytes(),
        x.backgroundCores(),
        x.serverCpu(),
        x.jvmInternalCpu());
  }

  /**
   * The concurrencies to step through, ascending: the requested ones plus {@code extra} (the
   * service's HSM sessions, for pkcs11-direct only) when positive.
   */
  static List<Integer> sweep(List<Integer> requested, int extra) {
    java.util.TreeSet<Integer> all = new java.util.TreeSet<>(requested);
    if (extra > 0) {
      all.add(extra);
    }
    return List.copyOf(all);
  }

  /** Two steps at one concurrency whose background load differs by more than this are marked. */
  static final double BACKGROUND_MISMATCH_CORES = 0.15;

  /** A mode saturates at the lowest concurrency reaching this share of its peak throughput. */
  static final double SATURATION_SHARE = 0.95;

  /**
   * Keyhold against each baseline, per common concurrency and at peak, with the targets:
   * pkcs11-direct at peak (RSA sign 0.85, DecryptPremaster 0.90, EC sign 0.5) and at concurrency 1
   * (RSA 0.80); and Keyhold's peak against pkcs11-direct with as many threads as the service has
   * HSM sessions (equal HSM concurrency).
   */
  static List<Ratio> ratios(List<ModeResult> modes, KeyInfo key, Workload w, int hsmSessions) {
    List<Ratio> out = new ArrayList<>();
    ModeResult kh = mode(modes, "keyhold");
    if (kh == null) {
      return out;
    }
    boolean ec = key.getKeyType() == KeyType.KEY_TYPE_EC;
    boolean decrypt = w.operation() == Workload.Operation.DECRYPT_PREMASTER;
    for (ModeResult b : modes) {
      if (b == kh || b.peakOpsPerSecond() <= 0) {
        continue;
      }
      boolean direct = b.mode().equals("pkcs11-direct");
      Double target = direct ? (ec ? 0.5 : decrypt ? 0.90 : 0.85) : null;
      for (Ratio r : Ratio.between(kh, b, target)) {
        out.add(
            direct && !ec && r.concurrency() == 1
                ? new Ratio(r.mode(), r.baseline(), 1, r.value(), 0.80)
                : r);
      }
      if (direct && hsmSessions > 0) {
        b.step(hsmSessions)
            .filter(x -> x.opsPerSecond() > 0)
            .ifPresent(
                x ->
                    out.add(
                        new Ratio(
                            kh.mode(),
                            "pkcs11-direct with " + hsmSessions + " threads = hsm.sessions",
                            0,
                            round3(kh.peakOpsPerSecond() / x.opsPerSecond()),
                            null)));
      }
    }
    return out;
  }

  /**
   * Figures derived from one run: Keyhold's added p50 at concurrency 1 (target ≤ 100 µs), the
   * service's CPU overhead per operation (its CPU per op minus the HSM operation's own CPU per op,
   * the bench JVM's CPU per op in the pkcs11-direct step at the same concurrency; target ≤ 60 µs
   * for Sign, ≤ 40 µs for DecryptPremaster), the service's peak RSS (VmHWM; target ≤ 300 MiB), each
   * mode's saturation point, and the concurrencies whose modes saw different background load.
   */
  static Map<String, Object> derived(
      List<ModeResult> modes, Workload w, int hsmSessions, List<String> notes) {
    Map<String, Object> d = new LinkedHashMap<>();
    ModeResult kh = mode(modes, "keyhold");
    ModeResult direct = mode(modes, "pkcs11-direct");
    var kh1 = kh == null ? java.util.Optional.<StepResult>empty() : kh.step(1);
    var direct1 = direct == null ? java.util.Optional.<StepResult>empty() : direct.step(1);
    if (kh1.isPresent() && direct1.isPresent() && kh1.get().ops() > 0 && direct1.get().ops() > 0) {
      d.put(
          "addedP50MicrosAtConcurrency1",
          round3(kh1.get().latency().p50() - direct1.get().latency().p50()));
      d.put("addedP50MicrosTarget", 100.0);
    }
    if (kh != null && direct != null) {
      Map<String, Double> overhead = new LinkedHashMap<>();
      Map<String, Double> hsmOwn = new LinkedHashMap<>();
      for (StepResult k : kh.steps()) {
        var b = direct.step(k.concurrency());
        Double o = overheadMicros(k, b.orElse(null));
        if (o != null) {
          overhead.put("c=" + k.concurrency(), o);
          hsmOwn.put("c=" + k.concurrency(), b.get().clientCpu().microsPerOp());
        }
      }
      if (!overhead.isEmpty()) {
        d.put("serviceOverheadCpuMicrosPerOp", overhead);
        d.put("hsmOperationCpuMicrosPerOp", hsmOwn);
        // The figure at the highest concurrency both ran: the steady state under load.
        String last = (String) overhead.keySet().toArray()[overhead.size() - 1];
        d.put("serviceOverheadCpuMicrosPerOpAtPeakLoad", overhead.get(last));
        d.put("serviceOverheadCpuMicrosPerOpAt", last);
        d.put(
            "serviceOverheadCpuMicrosTarget",
            w.operation() == Workload.Operation.DECRYPT_PREMASTER ? 40.0 : 60.0);
      }
    }
    if (kh != null) {
      kh.steps().stream()
          .map(StepResult::serviceRssBytes)
          .filter(x -> x != null)
          .mapToLong(Long::longValue)
          .max()
          .ifPresent(rss -> d.put("serviceMaxRssMiB", round3(rss / 1048576.0)));
      kh.steps().stream()
          .map(StepResult::servicePeakRssBytes)
          .filter(x -> x != null)
          .mapToLong(Long::longValue)
          .max()
          .ifPresent(
              hwm -> {
                d.put("servicePeakRssMiB", round3(hwm / 1048576.0));
                d.put("servicePeakRssTargetMiB", 300.0);
              });
    }
    Map<String, Integer> saturation = new LinkedHashMap<>();
    for (ModeResult m : modes) {
      saturationConcurrency(m).ifPresent(c -> saturation.put(m.mode(), c));
    }
    if (!saturation.isEmpty()) {
      d.put("saturationConcurrency", saturation);
    }
    if (hsmSessions > 0) {
      d.put("hsmSessions", hsmSessions);
    }
    List<String> mismatched = backgroundMismatches(modes);
    d.put("backgroundMismatch", mismatched);
    if (!mismatched.isEmpty()) {
      notes.add(
          "background load differed between modes (over "
              + BACKGROUND_MISMATCH_CORES
              + " cores) at "
              + String.join("; ", mismatched)
              + ": do not publish those ratios");
    }
    return d;
  }

  /**
   * Service CPU µs per Keyhold operation minus the bench JVM's CPU µs per pkcs11-direct operation
   * (the HSM operation itself: SunPKCS11 and SoftHSM run in that JVM). Null unless both are known.
   */
  static Double overheadMicros(StepResult keyhold, StepResult direct) {
    if (keyhold == null
        || direct == null
        || keyhold.serviceCpu() == null
        || direct.clientCpu() == null
        || keyhold.ops() <= 0
        || direct.ops() <= 0) {
      return null;
    }
    return round3(keyhold.serviceCpu().microsPerOp() - direct.clientCpu().microsPerOp());
  }

  /**
   * The lowest concurrency whose throughput reaches {@link #SATURATION_SHARE} of the mode's peak.
   */
  public static java.util.Optional<Integer> saturationConcurrency(ModeResult m) {
    double peak = m.peakOpsPerSecond();
    if (peak <= 0) {
      return java.util.Optional.empty();
    }
    return m.steps().stream()
        .filter(x -> x.opsPerSecond() >= SATURATION_SHARE * peak)
        .map(StepResult::concurrency)
        .min(Integer::compare);
  }

  /**
   * "c=N keyhold 0.05 vs pkcs11-direct 0.40 cores" for each concurrency where Keyhold and a
   * baseline measured background loads more than {@link #BACKGROUND_MISMATCH_CORES} apart.
   */
  static List<String> backgroundMismatches(List<ModeResult> modes) {
    return backgroundMismatches(modes, "keyhold", null);
  }

  /**
   * As {@link #backgroundMismatches(List)} for the mode {@code keyholdMode} against {@code
   * baseline} (null: every other mode).
   */
  public static List<String> backgroundMismatches(
      List<ModeResult> modes, String keyholdMode, String baseline) {
    List<String> out = new ArrayList<>();
    ModeResult kh = mode(modes, keyholdMode);
    if (kh == null) {
      return out;
    }
    for (StepResult k : kh.steps()) {
      if (k.backgroundCores() == null) {
        continue;
      }
      for (ModeResult b : modes) {
        if (b == kh || (baseline != null && !b.mode().equals(baseline))) {
          continue;
        }
        b.step(k.concurrency())
            .filter(x -> x.backgroundCores() != null)
            .filter(
                x ->
                    Math.abs(x.backgroundCores() - k.backgroundCores()) > BACKGROUND_MISMATCH_CORES)
            .ifPresent(
                x ->
                    out.add(
                        "c="
                            + k.concurrency()
                            + " "
                            + keyholdMode
                            + " "
                            + k.backgroundCores()
                            + " vs "
                            + b.mode()
                            + " "
                            + x.backgroundCores()
                            + " cores"));
      }
    }
    return out;
  }

  private static ModeResult mode(List<ModeResult> modes, String name) {
    return modes.stream().filter(m -> m.mode().equals(name)).findFirst().orElse(null);
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
