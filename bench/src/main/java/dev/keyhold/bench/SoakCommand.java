package dev.keyhold.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.keyhold.bench.load.LoadRunner;
import dev.keyhold.bench.load.Outcome;
import dev.keyhold.bench.load.ProcessCpu;
import dev.keyhold.bench.load.ServiceOperations;
import dev.keyhold.bench.ops.KeyholdTarget;
import dev.keyhold.bench.ops.Workload;
import dev.keyhold.bench.report.LatencySummary;
import dev.keyhold.bench.report.StepResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyhold-bench soak}: a long open-loop run of Sign calls at a fixed rate (a fraction of the
 * capacity measured first, or {@code --rate}) through one client-lib client with round_robin over
 * service replicas the bench starts as child JVMs on the same token. Reports per interval the
 * operations, errors, latency percentiles (from each call's intended start, so a stall is not
 * hidden by coordinated omission) and each replica's RSS, peak RSS, threads and HSM executor
 * threads, and ends with verdicts: zero errors, every replica served, RSS flat, threads flat.
 */
@Command(
    name = "soak",
    mixinStandardHelpOptions = true,
    description = {
      "Starts --replicas service replicas from --config (each its own port and metrics port), then"
          + " drives Sign at --fraction of their measured capacity (or --rate) for --duration"
          + " through one round_robin client, reporting every --interval: ops, errors,"
          + " p50/p99/p99.9, and per replica VmRSS/VmHWM, threads and HSM threads."
    })
final class SoakCommand implements Callable<Integer> {
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

  /** Every successful call's latency over the whole soak, intervals summed. */
  private final Histogram total = new Histogram(HIGHEST_NANOS, 3);

  @Mixin CliSupport.TargetOptions target = new CliSupport.TargetOptions();

  @Option(
      names = "--replicas",
      defaultValue = "2",
      description = "service replicas to start (default: ${DEFAULT-VALUE})")
  int replicas;

  @Option(
      names = "--key-name",
      defaultValue = "rsa2048",
      description = "the Keyhold key (default: ${DEFAULT-VALUE})")
  String keyName;

  @Option(names = "--scheme", description = "signature scheme (default: the key's first)")
  String scheme;

  @Option(
      names = "--duration",
      defaultValue = "10m",
      converter = CliSupport.DurationConverter.class,
      description = "length of the soak (default: ${DEFAULT-VALUE})")
  Duration duration;

  @Option(
      names = "--interval",
      defaultValue = "30s",
      converter = CliSupport.DurationConverter.class,
      description = "report interval (default: ${DEFAULT-VALUE})")
  Duration interval;

  @Option(
      names = "--rate",
      description = "Sign calls per second; skips the capacity measurement (default: measured)")
  Double rate;

  @Option(
      names = "--fraction",
      defaultValue = "0.8",
      description = "fraction of the measured capacity to run at (default: ${DEFAULT-VALUE})")
  double fraction;

  @Option(
      names = "--capacity-concurrency",
      defaultValue = "32",
      description = "in-flight calls of the capacity step (default: ${DEFAULT-VALUE})")
  int capacityConcurrency;

  @Option(
      names = "--capacity-warmup",
      defaultValue = "10s",
      converter = CliSupport.DurationConverter.class,
      description = "warm-up of the capacity step (default: ${DEFAULT-VALUE})")
  Duration capacityWarmup;

  @Option(
      names = "--capacity-time",
      defaultValue = "10s",
      converter = CliSupport.DurationConverter.class,
      description = "measured time of the capacity step (default: ${DEFAULT-VALUE})")
  Duration capacityTime;

  @Option(
      names = "--max-in-flight",
      defaultValue = "1024",
      description =
          "calls in flight at most; a call due beyond it is not sent and counts as the error"
              + " SKIPPED_MAX_IN_FLIGHT (default: ${DEFAULT-VALUE})")
  int maxInFlight;

  @Option(
      names = "--rss-tolerance",
      defaultValue = "10",
      description =
          "percent by which a replica's RSS may differ, last interval vs second (default:"
              + " ${DEFAULT-VALUE})")
  double rssTolerancePercent;

  @Option(
      names = "--deadline",
      defaultValue = "10s",
      converter = CliSupport.DurationConverter.class,
      description = "deadline of each Keyhold call (default: ${DEFAULT-VALUE})")
  Duration deadline;

  @Option(
      names = "--out",
      defaultValue = "bench-results",
      description =
          "folder for the JSON and markdown report and replica logs (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--name",
      defaultValue = "soak",
      description = "base file name of the reports (default: ${DEFAULT-VALUE})")
  String name;

  @Option(names = "--strict", description = "exit 1 when a verdict fails")
  boolean strict;

  /** One replica the bench started. */
  public record Replica(
      int replica, long pid, int port, int metricsPort, String config, String log) {}

  /** One replica at the end of an interval. Null fields: not readable. */
  public record ReplicaSample(
      int replica,
      Long rssBytes,
      Long peakRssBytes,
      Long threads,
      Long hsmThreads,
      Long hsmStuckThreads,
      Long tokenUp,
      Long okOpsTotal,
      Long okOps) {}

  /** One report interval; latencies in microseconds. */
  public record Interval(
      int index,
      double endSeconds,
      double seconds,
      long ops,
      long errors,
      Map<String, Long> errorsByKind,
      double opsPerSecond,
      double p50,
      double p99,
      double p999,
      double max,
      List<ReplicaSample> replicas) {}

  /** pass, fail or not judged (too few intervals, a figure unreadable). */
  public record Verdict(String name, String status, String detail) {}

  /** The whole report as written to JSON. */
  public record Report(
      String command,
      String startedAt,
      Map<String, Object> settings,
      Double capacityOpsPerSecond,
      double rate,
      List<Replica> replicaList,
      List<Interval> intervals,
      long totalOps,
      long totalErrors,
      LatencySummary latency,
      List<Verdict> verdicts,
      boolean pass) {}

  @Override
  public Integer call() throws Exception {
    PrintStream stdout = System.out;
    if (target.config == null) {
      throw new IllegalArgumentException("soak starts its replicas from --config: it is required");
    }
    if (replicas < 1 || fraction <= 0 || maxInFlight < 1) {
      throw new IllegalArgumentException(
          "--replicas and --max-in-flight must be at least 1, --fraction above 0");
    }
    if (interval.isZero() || interval.isNegative() || duration.compareTo(interval) < 0) {
      throw new IllegalArgumentException("--interval must be positive and at most --duration");
    }
    target.clientConfig("127.0.0.1:1", deadline); // checks the mTLS files before anything starts
    Files.createDirectories(out);
    String startedAt = Instant.now().toString();
    List<ChildService> children = new ArrayList<>();
    List<Replica> started = new ArrayList<>();
    try {
      for (int i = 1; i <= replicas; i++) {
        Path cfg = replicaConfig(target.config, i, out);
        ChildService child;
        try {
          child =
              ChildService.start(
                  target.javaHome,
                  cfg.toAbsolutePath(),
                  "127.0.0.1",
                  0,
                  target.serviceJvmArgs,
                  out.resolve(name + "-replica-" + i + ".log"));
        } catch (IOException e) {
          throw new KeyholdTarget.TargetException(
              "cannot start replica " + i + " from " + cfg + ": " + e.getMessage(), e);
        }
        children.add(child);
        // Port 0 for both: the service logs its metrics port before the listening line the
        // start waited for.
        int metricsPort = child.metricsPort();
        if (metricsPort < 0) {
          throw new KeyholdTarget.TargetException(
              "replica " + i + " did not log its metrics port; see " + child.log(), null);
        }
        started.add(
            new Replica(
                i, child.pid(), child.port(), metricsPort, cfg.toString(), child.log().toString()));
        System.err.println(
            "soak: replica " + i + " pid " + child.pid() + " on 127.0.0.1:" + child.port());
      }
      StringBuilder t = new StringBuilder("static:///");
      for (Replica r : started) {
        t.append(r.replica() == 1 ? "" : ",").append("127.0.0.1:").append(r.port());
      }
      String staticTarget = t.toString();
      try (KeyholdTarget kt =
          KeyholdTarget.connect(target.clientConfig(staticTarget, deadline), keyName)) {
        kt.checkAllowed(Workload.Operation.SIGN);
        Workload w = Workload.sign(kt.scheme(scheme));
        LoadRunner.AsyncOperation op = kt.operation(w);
        Double capacity = null;
        double soakRate;
        if (rate != null) {
          soakRate = rate;
        } else {
          ConsoleProgress progress = new ConsoleProgress(System.err, System.console() != null);
          StepResult cap =
              new LoadRunner(capacityWarmup, capacityTime, null, progress)
                  .runAsync("capacity", capacityConcurrency, op);
          progress.clear();
          capacity = cap.opsPerSecond();
          if (!cap.errors().isEmpty() || cap.ops() == 0) {
            throw new IllegalStateException(
                "the capacity step failed: " + cap.ops() + " ops, errors " + cap.errors());
          }
          soakRate = Math.max(1, capacity * fraction);
          System.err.printf(
              "soak: capacity %.1f Sign/s at c=%d; soaking at %.1f/s%n",
              capacity, capacityConcurrency, soakRate);
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("target", staticTarget);
        settings.put("keyName", keyName);
        settings.put("scheme", w.scheme().name());
        settings.put("durationSeconds", duration.toMillis() / 1000.0);
        settings.put("intervalSeconds", interval.toMillis() / 1000.0);
        settings.put("fraction", rate == null ? fraction : null);
        settings.put("maxInFlight", maxInFlight);
        settings.put("rssTolerancePercent", rssTolerancePercent);
        settings.put("deadlineSeconds", deadline.toMillis() / 1000.0);
        List<Interval> intervals = run(op, soakRate, children, started, stdout);
        Report report = report(startedAt, settings, capacity, soakRate, started, intervals);
        write(report);
        stdout.println();
        stdout.print(markdown(report));
        stdout.println("JSON: " + out.resolve(name + ".json").toAbsolutePath());
        stdout.println("Markdown: " + out.resolve(name + ".md").toAbsolutePath());
        return strict && !report.pass() ? 1 : 0;
      }
    } finally {
      for (ChildService c : children) {
        c.close();
      }
    }
  }

  /** The open-loop run: a pacer thread sends calls on schedule; this thread reads each interval. */
  private List<Interval> run(
      LoadRunner.AsyncOperation op,
      double callsPerSecond,
      List<ChildService> children,
      List<Replica> started,
      PrintStream stdout)
      throws InterruptedException {
    Recorder recorder = new Recorder(HIGHEST_NANOS, 3);
    LongAdder ok = new LongAdder();
    ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    AtomicInteger inFlight = new AtomicInteger();
    List<ServiceOperations> scrapes = new ArrayList<>();
    for (Replica r : started) {
      scrapes.add(
          new ServiceOperations(URI.create("http://127.0.0.1:" + r.metricsPort() + "/metrics")));
    }
    // Read before the first call, so the replicas' counts add up to the soak's.
    long[] okOpsBefore = new long[started.size()];
    for (int i = 0; i < scrapes.size(); i++) {
      okOpsBefore[i] = scrapes.get(i).okTotal().orElse(0);
    }
    long t0 = System.nanoTime();
    long end = t0 + duration.toNanos();
    Thread pacer =
        new Thread(
            () -> {
              for (long k = 0; ; k++) {
                long due = t0 + (long) (k * 1e9 / callsPerSecond);
                if (due >= end) {
                  return;
                }
                for (long now = System.nanoTime(); now < due; now = System.nanoTime()) {
                  LockSupport.parkNanos(due - now);
                }
                if (inFlight.get() >= maxInFlight) {
                  errors.computeIfAbsent("SKIPPED_MAX_IN_FLIGHT", x -> new LongAdder()).increment();
                  continue;
                }
                inFlight.incrementAndGet();
                CompletableFuture<?> f;
                try {
                  f = op.start();
                } catch (RuntimeException e) {
                  done(due, e, recorder, ok, errors, inFlight);
                  continue;
                }
                f.whenComplete((r, e) -> done(due, e, recorder, ok, errors, inFlight));
              }
            },
            "soak-pacer");
    pacer.setDaemon(true);
    pacer.start();

    List<Interval> intervals = new ArrayList<>();
    Map<String, Long> errorsBefore = new TreeMap<>();
    long okBefore = 0;
    long intervalStart = t0;
    recorder.reset();
    String header = markdownHeader(started.size());
    stdout.print(header);
    for (int index = 1; ; index++) {
      long intervalEnd = Math.min(end, t0 + index * interval.toNanos());
      boolean last = intervalEnd >= end;
      for (long now = System.nanoTime(); now < intervalEnd; now = System.nanoTime()) {
        TimeUnit.NANOSECONDS.sleep(intervalEnd - now);
      }
      if (last) {
        pacer.join();
        long drainUntil = System.nanoTime() + deadline.toNanos() + TimeUnit.SECONDS.toNanos(5);
        while (inFlight.get() > 0 && System.nanoTime() < drainUntil) {
          TimeUnit.MILLISECONDS.sleep(10);
        }
        if (inFlight.get() > 0) {
          errors.computeIfAbsent("UNFINISHED_AT_STOP", x -> new LongAdder()).add(inFlight.get());
        }
      }
      Histogram h = recorder.getIntervalHistogram();
      total.add(h);
      long okNow = ok.sum();
      Map<String, Long> errorsNow = new TreeMap<>();
      errors.forEach((k, v) -> errorsNow.put(k, v.sum()));
      Map<String, Long> delta = new TreeMap<>();
      errorsNow.forEach(
          (k, v) -> {
            long d = v - errorsBefore.getOrDefault(k, 0L);
            if (d != 0) {
              delta.put(k, d);
            }
          });
      errorsBefore.clear();
      errorsBefore.putAll(errorsNow);
      List<ReplicaSample> samples = new ArrayList<>();
      for (int i = 0; i < started.size(); i++) {
        samples.add(sample(started.get(i), children.get(i), scrapes.get(i), okOpsBefore, i));
      }
      long now = System.nanoTime();
      double seconds = (Math.max(now, intervalEnd) - intervalStart) / 1e9;
      LatencySummary l = LatencySummary.ofNanos(h);
      long ops = okNow - okBefore;
      Interval iv =
          new Interval(
              index,
              round3((intervalEnd - t0) / 1e9),
              round3(seconds),
              ops,
              delta.values().stream().mapToLong(Long::longValue).sum(),
              delta,
              Math.round(ops / seconds * 10) / 10.0,
              l.p50(),
              l.p99(),
              l.p999(),
              l.max(),
              samples);
      intervals.add(iv);
      stdout.print(markdownRow(iv));
      stdout.flush();
      okBefore = okNow;
      intervalStart = intervalEnd;
      if (last) {
        return intervals;
      }
    }
  }

  private static void done(
      long intendedStart,
      Throwable error,
      Recorder recorder,
      LongAdder ok,
      ConcurrentHashMap<String, LongAdder> errors,
      AtomicInteger inFlight) {
    long latency = System.nanoTime() - intendedStart;
    if (error == null) {
      recorder.recordValue(Math.min(Math.max(latency, 0), HIGHEST_NANOS));
      ok.increment();
    } else {
      errors.computeIfAbsent(Outcome.of(error), k -> new LongAdder()).increment();
    }
    inFlight.decrementAndGet();
  }

  private static ReplicaSample sample(
      Replica r, ChildService child, ServiceOperations scrape, long[] okBefore, int i) {
    ProcessCpu p = child.cpu();
    String metrics = scrapeText(scrape.uri());
    OptionalLong okTotal =
        metrics == null ? OptionalLong.empty() : OptionalLong.of(parseOkTotal(metrics));
    Long okOps = null;
    if (okTotal.isPresent()) {
      okOps = okTotal.getAsLong() - okBefore[i];
      okBefore[i] = okTotal.getAsLong();
    }
    return new ReplicaSample(
        r.replica(),
        boxed(p.rssBytes()),
        boxed(p.peakRssBytes()),
        boxed(p.threadCount()),
        gauge(metrics, "keyhold_hsm_threads"),
        gauge(metrics, "keyhold_hsm_stuck_threads"),
        gauge(metrics, "keyhold_hsm_token_up"),
        boxed(okTotal),
        okOps);
  }

  private static long parseOkTotal(String exposition) {
    // The same sum ServiceOperations makes, on text already fetched.
    double total = 0;
    for (String line : exposition.split("\n")) {
      if (line.startsWith("keyhold_operations_total{")
          && line.contains("outcome=\"ok\"")
          && (line.contains("operation=\"sign\"")
              || line.contains("operation=\"decrypt_premaster\""))) {
        String[] parts = line.substring(line.lastIndexOf('}') + 1).trim().split("\\s+");
        total += Double.parseDouble(parts[0]);
      }
    }
    return Math.round(total);
  }

  private static Long gauge(String exposition, String metric) {
    if (exposition == null) {
      return null;
    }
    OptionalDouble v = metricSum(exposition, metric);
    return v.isPresent() ? Math.round(v.getAsDouble()) : null;
  }

  /**
   * The sum over every sample of {@code metric} (any labels) in Prometheus text, or empty when it
   * has none.
   */
  static OptionalDouble metricSum(String exposition, String metric) {
    double sum = 0;
    boolean found = false;
    for (String line : exposition.split("\n")) {
      if (line.startsWith(metric + " ") || line.startsWith(metric + "{")) {
        int from = line.startsWith(metric + "{") ? line.lastIndexOf('}') + 1 : metric.length();
        String[] parts = line.substring(from).trim().split("\\s+");
        try {
          sum += Double.parseDouble(parts[0]);
          found = true;
        } catch (NumberFormatException e) {
          // not a sample line
        }
      }
    }
    return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
  }

  private static String scrapeText(URI uri) {
    try {
      HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
      c.setConnectTimeout(5000);
      c.setReadTimeout(5000);
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } finally {
        c.disconnect();
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The replica's config: the given one with {@code listen} and {@code metrics.listen} on 127.0.0.1
   * port 0 (the service logs the ports it bound) and the audit file (when the config has one) of
   * its own. Written next to the given config, so relative paths in it resolve as they do there.
   */
  static Path replicaConfig(Path config, int replica, Path outDir) throws IOException {
    YAMLMapper yaml = new YAMLMapper();
    JsonNode tree = yaml.readTree(config.toFile());
    if (!(tree instanceof ObjectNode root)) {
      throw new IllegalArgumentException(config + " is not a YAML mapping");
    }
    root.put("listen", "127.0.0.1:0");
    ObjectNode metrics =
        root.get("metrics") instanceof ObjectNode m ? m : root.putObject("metrics");
    metrics.put("listen", "127.0.0.1:0");
    if (root.get("audit") instanceof ObjectNode audit && audit.has("file")) {
      audit.put(
          "file",
          outDir.resolve("soak-replica-" + replica + "-audit.log").toAbsolutePath().toString());
    }
    Path dir = config.toAbsolutePath().getParent();
    Path f = dir.resolve(".keyhold-soak-replica-" + replica + ".yaml");
    yaml.writeValue(f.toFile(), root);
    return f;
  }

  private Report report(
      String startedAt,
      Map<String, Object> settings,
      Double capacity,
      double soakRate,
      List<Replica> started,
      List<Interval> intervals) {
    long totalOps = intervals.stream().mapToLong(Interval::ops).sum();
    long totalErrors = intervals.stream().mapToLong(Interval::errors).sum();
    List<Verdict> verdicts = verdicts(intervals, started.size(), rssTolerancePercent);
    boolean pass = verdicts.stream().noneMatch(v -> v.status().equals("fail"));
    LatencySummary overall = LatencySummary.ofNanos(total);
    return new Report(
        CliSupport.commandLine(BenchMain.args),
        startedAt,
        settings,
        capacity,
        Math.round(soakRate * 10) / 10.0,
        started,
        intervals,
        totalOps,
        totalErrors,
        overall,
        verdicts,
        pass);
  }

  /** Zero errors, every replica served, RSS flat, threads flat. */
  static List<Verdict> verdicts(List<Interval> intervals, int replicas, double rssTolerance) {
    List<Verdict> out = new ArrayList<>();
    long errors = intervals.stream().mapToLong(Interval::errors).sum();
    out.add(
        new Verdict(
            "zero errors",
            errors == 0 ? "pass" : "fail",
            errors == 0 ? "no failed call" : errors + " failed calls"));
    for (int r = 0; r < replicas; r++) {
      int ri = r;
      long served =
          intervals.stream()
              .map(i -> i.replicas().get(ri).okOps())
              .mapToLong(v -> v == null ? 0 : v)
              .sum();
      out.add(
          new Verdict(
              "replica " + (r + 1) + " served",
              served > 0 ? "pass" : "fail",
              served + " ok operations by its /metrics"));
    }
    if (intervals.size() < 3) {
      out.add(
          new Verdict("RSS flat", "not judged", "needs 3 intervals or more (first is warm-up)"));
      out.add(new Verdict("threads flat", "not judged", "needs 3 intervals or more"));
      return out;
    }
    Interval second = intervals.get(1);
    Interval last = intervals.get(intervals.size() - 1);
    for (int r = 0; r < replicas; r++) {
      ReplicaSample a = second.replicas().get(r);
      ReplicaSample b = last.replicas().get(r);
      String who = "replica " + (r + 1);
      if (a.rssBytes() == null || b.rssBytes() == null) {
        out.add(new Verdict(who + " RSS flat", "not judged", "VmRSS unreadable"));
      } else {
        double change = (b.rssBytes() - a.rssBytes()) * 100.0 / a.rssBytes();
        out.add(
            new Verdict(
                who + " RSS flat",
                Math.abs(change) <= rssTolerance ? "pass" : "fail",
                String.format(
                    java.util.Locale.ROOT,
                    "VmRSS %d MiB (interval 2) -> %d MiB (interval %d): %+.1f %% (tolerance %.0f"
                        + " %%)",
                    a.rssBytes() >> 20,
                    b.rssBytes() >> 20,
                    last.index(),
                    change,
                    rssTolerance)));
      }
      if (a.threads() == null || b.threads() == null || b.hsmThreads() == null) {
        out.add(new Verdict(who + " threads flat", "not judged", "threads unreadable"));
      } else {
        boolean hsmFlat =
            b.hsmThreads().equals(a.hsmThreads())
                && (b.hsmStuckThreads() == null || b.hsmStuckThreads() == 0);
        // JVM threads: a few come and go (JIT, GC, gRPC's executor); a leak grows without bound.
        boolean jvmFlat = b.threads() <= a.threads() + Math.max(4, a.threads() / 10);
        out.add(
            new Verdict(
                who + " threads flat",
                hsmFlat && jvmFlat ? "pass" : "fail",
                "HSM threads "
                    + a.hsmThreads()
                    + " -> "
                    + b.hsmThreads()
                    + " (stuck "
                    + b.hsmStuckThreads()
                    + "), JVM threads "
                    + a.threads()
                    + " -> "
                    + b.threads()));
      }
    }
    return out;
  }

  private void write(Report report) throws IOException {
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve(name + ".json").toFile(), report);
    Files.writeString(out.resolve(name + ".md"), markdown(report));
  }

  static String markdownHeader(int replicas) {
    StringBuilder h =
        new StringBuilder("| # | end s | ops | ops/s | errors | p50 µs | p99 µs | p99.9 µs |");
    StringBuilder s = new StringBuilder("|---|---|---|---|---|---|---|---|");
    for (int r = 1; r <= replicas; r++) {
      h.append(" r")
          .append(r)
          .append(" ops | r")
          .append(r)
          .append(" RSS MiB | r")
          .append(r)
          .append(" HWM MiB | r")
          .append(r)
          .append(" threads | r")
          .append(r)
          .append(" HSM threads |");
      s.append("---|---|---|---|---|");
    }
    return h + "\n" + s + "\n";
  }

  static String markdownRow(Interval i) {
    StringBuilder b =
        new StringBuilder()
            .append("| ")
            .append(i.index())
            .append(" | ")
            .append(i.endSeconds())
            .append(" | ")
            .append(i.ops())
            .append(" | ")
            .append(i.opsPerSecond())
            .append(" | ")
            .append(i.errors() == 0 ? "0" : i.errors() + " " + i.errorsByKind())
            .append(" | ")
            .append(i.p50())
            .append(" | ")
            .append(i.p99())
            .append(" | ")
            .append(i.p999())
            .append(" |");
    for (ReplicaSample s : i.replicas()) {
      b.append(' ')
          .append(s.okOps())
          .append(" | ")
          .append(mib(s.rssBytes()))
          .append(" | ")
          .append(mib(s.peakRssBytes()))
          .append(" | ")
          .append(s.threads())
          .append(" | ")
          .append(s.hsmThreads())
          .append(" |");
    }
    return b + "\n";
  }

  static String markdown(Report r) {
    StringBuilder b = new StringBuilder("# Keyhold soak\n\n");
    b.append("`").append(r.command()).append("`, started ").append(r.startedAt()).append("\n\n");
    b.append("Replicas: ");
    for (Replica rep : r.replicaList()) {
      b.append("r").append(rep.replica()).append(" pid ").append(rep.pid()).append(" port ");
      b.append(rep.port()).append("; ");
    }
    b.append("\n\nRate: ").append(r.rate()).append(" Sign/s");
    if (r.capacityOpsPerSecond() != null) {
      b.append(" (capacity measured: ").append(r.capacityOpsPerSecond()).append(" Sign/s)");
    }
    b.append("; ")
        .append(r.totalOps())
        .append(" ok, ")
        .append(r.totalErrors())
        .append(" errors.\n\n");
    b.append(markdownHeader(r.replicaList().size()));
    for (Interval i : r.intervals()) {
      b.append(markdownRow(i));
    }
    b.append("\nVerdicts:\n\n");
    for (Verdict v : r.verdicts()) {
      b.append("- ").append(v.status().toUpperCase(java.util.Locale.ROOT)).append(": ");
      b.append(v.name()).append(" (").append(v.detail()).append(")\n");
    }
    b.append("\nOverall: ").append(r.pass() ? "PASS" : "FAIL").append("\n");
    return b.toString();
  }

  private static String mib(Long bytes) {
    return bytes == null ? "-" : String.valueOf(Math.round(bytes / 1048576.0 * 10) / 10.0);
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static Long boxed(OptionalLong v) {
    return v.isPresent() ? v.getAsLong() : null;
  }
}
