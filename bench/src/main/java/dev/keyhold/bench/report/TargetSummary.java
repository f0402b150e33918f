package dev.keyhold.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The benchmark section's markdown, regenerated from the JSON reports of one {@code run-all.sh}
 * run: every issue-13 target with its same-run value and met/missed, then the scaling tables. It
 * only reads numbers the bench wrote; a report that is absent shows as "not run".
 */
public final class TargetSummary {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** One target: a figure from one report, compared with a bound. */
  record Target(String what, String report, Figure figure, boolean atLeast, double bound) {}

  /** How to read a target's figure from a report. */
  @FunctionalInterface
  interface Figure {
    /** The value, or null when the report does not have it. */
    Double read(JsonNode report);
  }

  private final Path dir;

  public TargetSummary(Path dir) {
    this.dir = dir;
  }

  /** {@code keyhold/baseline} at {@code concurrency} (0 = peak). */
  static Figure ratio(String mode, String baseline, int concurrency) {
    return r -> {
      for (JsonNode x : r.path("ratios")) {
        if (x.path("mode").asText().equals(mode)
            && x.path("baseline").asText().equals(baseline)
            && x.path("concurrency").asInt() == concurrency) {
          return x.path("value").asDouble();
        }
      }
      return null;
    };
  }

  /** A number in the report's {@code derived} map. */
  static Figure derived(String key) {
    return r ->
        r.path("derived").path(key).isNumber() ? r.path("derived").path(key).asDouble() : null;
  }

  static final List<Target> TARGETS =
      List.of(
          new Target(
              "RSA-2048 sign, peak, / pkcs11-direct",
              "ops-rsa2048-sign",
              ratio("keyhold", "pkcs11-direct", 0),
              true,
              0.85),
          new Target(
              "RSA-2048 sign, c=1, / pkcs11-direct",
              "ops-rsa2048-sign",
              ratio("keyhold", "pkcs11-direct", 1),
              true,
              0.80),
          new Target(
              "RSA-2048 DecryptPremaster, peak, / pkcs11-direct",
              "ops-rsa2048-decrypt",
              ratio("keyhold", "pkcs11-direct", 0),
              true,
              0.90),
          new Target(
              "RSA-2048 DecryptPremaster, c=1, / pkcs11-direct",
              "ops-rsa2048-decrypt",
              ratio("keyhold", "pkcs11-direct", 1),
              true,
              0.80),
          new Target(
              "P-256 sign (fault check on), peak, / pkcs11-direct",
              "ops-p256-sign",
              ratio("keyhold", "pkcs11-direct", 0),
              true,
              0.5),
          new Target(
              "RSA-2048 sign, added p50 at c=1 (µs)",
              "ops-rsa2048-sign",
              derived("addedP50MicrosAtConcurrency1"),
              false,
              100),
          new Target(
              "P-256 sign, added p50 at c=1 (µs)",
              "ops-p256-sign",
              derived("addedP50MicrosAtConcurrency1"),
              false,
              100),
          new Target(
              "RSA-2048 sign, service CPU − HSM op CPU (µs/op)",
              "ops-rsa2048-sign",
              derived("serviceOverheadCpuMicrosPerOpAtPeakLoad"),
              false,
              60),
          new Target(
              "P-256 sign, service CPU − HSM op CPU (µs/op)",
              "ops-p256-sign",
              derived("serviceOverheadCpuMicrosPerOpAtPeakLoad"),
              false,
              60),
          new Target(
              "DecryptPremaster, service CPU − HSM op CPU (µs/op)",
              "ops-rsa2048-decrypt",
              derived("serviceOverheadCpuMicrosPerOpAtPeakLoad"),
              false,
              40),
          new Target(
              "TLS 1.3 RSA-PSS handshakes, JSSE + Keyhold / JSSE + SunPKCS11",
              "handshakes-rsa2048-tls13",
              ratio("jsse-keyhold", "jsse-pkcs11", 0),
              true,
              0.95),
          new Target(
              "TLS 1.3 RSA-PSS handshakes, Netty + Keyhold / Netty local key",
              "handshakes-rsa2048-tls13",
              ratio("netty-keyhold", "netty-local", 0),
              true,
              0.9),
          new Target(
              "TLS 1.2 RSA key exchange, JSSE + Keyhold / JSSE + SunPKCS11",
              "handshakes-rsa2048-tls12-rsakx",
              ratio("jsse-keyhold", "jsse-pkcs11", 0),
              true,
              0.95),
          new Target(
              "TLS 1.2 RSA key exchange, Netty + Keyhold / Netty local key",
              "handshakes-rsa2048-tls12-rsakx",
              ratio("netty-keyhold", "netty-local", 0),
              true,
              0.9),
          new Target(
              "TLS 1.2 ECDHE-ECDSA, JSSE + Keyhold / JSSE + SunPKCS11",
              "handshakes-p256-tls12-ecdhe",
              ratio("jsse-keyhold", "jsse-pkcs11", 0),
              true,
              0.95),
          new Target(
              "TLS 1.2 ECDHE-ECDSA, Netty + Keyhold / Netty local key",
              "handshakes-p256-tls12-ecdhe",
              ratio("netty-keyhold", "netty-local", 0),
              true,
              0.9),
          new Target(
              "TLS 1.3 RSA-PSS, Netty + Keyhold / nginx + libp11, handshakes per server"
                  + " CPU-second",
              "handshakes-rsa2048-tls13",
              derived("perServerCpuSecond:netty-keyhold/nginx-libp11"),
              true,
              1.0),
          new Target(
              "TLS 1.2 ECDHE-RSA, Netty + Keyhold / nginx + libp11, handshakes per server"
                  + " CPU-second",
              "handshakes-rsa2048-tls12-ecdhe",
              derived("perServerCpuSecond:netty-keyhold/nginx-libp11"),
              true,
              1.0),
          new Target(
              "Service peak RSS (VmHWM, MiB), RSA sign sweep",
              "ops-rsa2048-sign",
              derived("servicePeakRssMiB"),
              false,
              300),
          new Target(
              "Service peak RSS (VmHWM, MiB), P-256 sign",
              "ops-p256-sign",
              derived("servicePeakRssMiB"),
              false,
              300));

  /** "met", "missed" or "not run" for a value against its target. */
  static String verdict(Double value, boolean atLeast, double bound) {
    if (value == null) {
      return "not run";
    }
    return (atLeast ? value >= bound : value <= bound) ? "met" : "**missed**";
  }

  private JsonNode load(String name) {
    Path p = dir.resolve(name + ".json");
    if (!Files.isRegularFile(p)) {
      return null;
    }
    try {
      return MAPPER.readTree(p.toFile());
    } catch (IOException e) {
      return null;
    }
  }

  /** The markdown. {@code startLoad} is the load average the run-all script saw before it began. */
  public String render(String startLoad) {
    StringBuilder sb = new StringBuilder();
    sb.append("<!-- generated by keyhold-bench summary from ")
        .append(dir)
        .append("; do not edit by hand -->\n\n");
    JsonNode any = load("ops-rsa2048-sign");
    if (any != null) {
      JsonNode env = any.path("environment");
      sb.append("Run of ")
          .append(any.path("started").asText())
          .append(" on ")
          .append(env.path("cpus").asText())
          .append(" CPUs (")
          .append(env.path("cpuModel").asText())
          .append("), load average at the start of the run ")
          .append(startLoad)
          .append(
              ". Every ratio below comes from one report, whose modes ran interleaved in the same"
                  + " process.\n\n");
    }
    sb.append(
        "| target | report | value | bound | verdict | background |\n|---|---|---|---|---|---|\n");
    for (Target t : TARGETS) {
      JsonNode r = load(t.report());
      Double v = r == null ? null : t.figure().read(r);
      String bg =
          r == null
              ? ""
              : r.path("derived").path("backgroundMismatch").size() > 0
                  ? "**differed**"
                  : r.path("settings").path("jitNotQuiet").size() > 0 ? "**JIT busy**" : "same";
      sb.append("| ")
          .append(t.what())
          .append(" | `")
          .append(t.report())
          .append("` | ")
          .append(v == null ? "-" : fmt(v))
          .append(" | ")
          .append(t.atLeast() ? "≥ " : "≤ ")
          .append(fmt(t.bound()))
          .append(" | ")
          .append(verdict(v, t.atLeast(), t.bound()))
          .append(" | ")
          .append(bg)
          .append(" |\n");
    }
    sb.append(
        "\n"
            + "\"background\": whether the bench saw different CPU use by other processes (over"
            + " 0.15 cores) between Keyhold's and the baseline's steps; a report marked"
            + " \"differed\" must be re-run before its figures are published; \"JIT busy\": a"
            + " mode's JIT compilers had not gone quiet before one of its steps was measured (same"
            + " rule).\n");
    sb.append(overheadTable());
    sb.append(rpcFloorTable("ops-rsa2048-get-key"));
    sb.append(
        peakTable(
            "Throughput at peak (ops/s or handshakes/s) and saturation point",
            List.of(
                "ops-rsa2048-sign",
                "ops-p256-sign",
                "ops-rsa2048-decrypt",
                "handshakes-rsa2048-tls13",
                "handshakes-rsa2048-tls12-rsakx",
                "handshakes-p256-tls12-ecdhe")));
    sb.append(
        peakTable("hsm.sessions sweep (RSA-2048 sign)", matching("ops-rsa2048-sign-sessions")));
    sb.append(
        peakTable("CPU affinity (taskset), RSA-2048 sign", matching("ops-rsa2048-sign-cpus")));
    sb.append(peakTable("Service on another JDK (--java-home)", matching("ops-jdk")));
    sb.append(perServerCpuTable(matching("handshakes-")));
    return sb.toString();
  }

  /**
   * Every handshake report's servers by handshakes per server CPU-second (the Keyhold service's CPU
   * counted with the app server's), and what a server could not serve.
   */
  private String perServerCpuTable(List<String> reports) {
    StringBuilder sb =
        new StringBuilder("\n#### Handshakes per server CPU-second (nginx + libp11 baseline)\n\n");
    if (reports.isEmpty()) {
      return sb.append("not run\n").toString();
    }
    sb.append(
        "| report | server | c | handshakes/s | server CPU µs/handshake | handshakes per server"
            + " CPU-second | bench-JVM GC/JIT µs/handshake |\n|---|---|---|---|---|---|---|\n");
    List<String> cannot = new ArrayList<>();
    for (String name : reports) {
      JsonNode r = load(name);
      if (r == null) {
        continue;
      }
      for (JsonNode m : r.path("modes")) {
        for (JsonNode st : m.path("steps")) {
          JsonNode server = st.path("serverCpu");
          if (!server.path("microsPerOp").isNumber()) {
            continue;
          }
          double us = server.path("microsPerOp").asDouble();
          JsonNode jvm = st.path("jvmInternalCpu").path("microsPerOp");
          sb.append("| `")
              .append(name)
              .append("` | ")
              .append(m.path("mode").asText())
              .append(" | ")
              .append(st.path("concurrency").asInt())
              .append(" | ")
              .append(fmt(st.path("opsPerSecond").asDouble()))
              .append(" | ")
              .append(fmt(us))
              .append(" | ")
              .append(us > 0 ? fmt(1e6 / us) : "-")
              .append(" | ")
              .append(
                  m.path("mode").asText().startsWith("nginx") || !jvm.isNumber()
                      ? "-"
                      : fmt(jvm.asDouble()))
              .append(" |\n");
        }
      }
      for (JsonNode n : r.path("notes")) {
        if (n.asText().startsWith("nginx-libp11 skipped")) {
          cannot.add("`" + name + "`: " + n.asText());
        }
      }
    }
    if (!cannot.isEmpty()) {
      sb.append("\nNot served:\n\n");
      cannot.forEach(c -> sb.append("- ").append(c).append('\n'));
    }
    return sb.toString();
  }

  private String overheadTable() {
    StringBuilder sb = new StringBuilder("\n#### Service CPU overhead per operation\n\n");
    sb.append(
        "| report | concurrency | service CPU µs/op − HSM operation CPU µs/op (pkcs11-direct, same"
            + " run) = overhead |\n"
            + "|---|---|---|\n");
    for (String name : List.of("ops-rsa2048-sign", "ops-p256-sign", "ops-rsa2048-decrypt")) {
      JsonNode r = load(name);
      if (r == null) {
        continue;
      }
      JsonNode o = r.path("derived").path("serviceOverheadCpuMicrosPerOp");
      JsonNode h = r.path("derived").path("hsmOperationCpuMicrosPerOp");
      o.fieldNames()
          .forEachRemaining(
              c ->
                  sb.append("| `")
                      .append(name)
                      .append("` | ")
                      .append(c)
                      .append(" | ")
                      .append(fmt(o.path(c).asDouble() + h.path(c).asDouble()))
                      .append(" − ")
                      .append(fmt(h.path(c).asDouble()))
                      .append(" = ")
                      .append(fmt(o.path(c).asDouble()))
                      .append(" |\n"));
    }
    return sb.toString();
  }

  /**
   * The RPC alone (GetKey: no HSM step): its latency and CPU are the floor under the added latency
   * and the overhead above.
   */
  private String rpcFloorTable(String name) {
    JsonNode r = load(name);
    if (r == null) {
      return "";
    }
    StringBuilder sb =
        new StringBuilder(
            "\n#### The RPC alone (`"
                + name
                + "`: GetKey, answered without the HSM)\n\n"
                + "| concurrency | ops/s | p50 µs | service CPU µs/op | client CPU µs/op |\n"
                + "|---|---|---|---|---|\n");
    for (JsonNode mode : r.path("modes")) {
      for (JsonNode step : mode.path("steps")) {
        sb.append("| ")
            .append(step.path("concurrency").asInt())
            .append(" | ")
            .append(fmt(step.path("opsPerSecond").asDouble()))
            .append(" | ")
            .append(fmt(step.path("latency").path("p50").asDouble()))
            .append(" | ")
            .append(cpu(step.path("serviceCpu")))
            .append(" | ")
            .append(cpu(step.path("clientCpu")))
            .append(" |\n");
      }
    }
    return sb.toString();
  }

  private static String cpu(JsonNode c) {
    return c.isMissingNode() || c.isNull() ? "-" : fmt(c.path("microsPerOp").asDouble());
  }

  private List<String> matching(String prefix) {
    List<String> out = new ArrayList<>();
    try (var s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(prefix) && n.endsWith(".json"))
          .sorted()
          .forEach(n -> out.add(n.substring(0, n.length() - 5)));
    } catch (IOException e) {
      // no folder: no rows
    }
    return out;
  }

  private String peakTable(String title, List<String> reports) {
    StringBuilder sb = new StringBuilder("\n#### ").append(title).append("\n\n");
    if (reports.isEmpty()) {
      return sb.append("not run\n").toString();
    }
    sb.append("| report | mode | peak | at c | saturates at c | service CPU µs/op at peak |\n");
    sb.append("|---|---|---|---|---|---|\n");
    for (String name : reports) {
      JsonNode r = load(name);
      if (r == null) {
        sb.append("| `").append(name).append("` | not run | | | | |\n");
        continue;
      }
      for (JsonNode m : r.path("modes")) {
        JsonNode best = null;
        for (JsonNode st : m.path("steps")) {
          if (best == null
              || st.path("opsPerSecond").asDouble() > best.path("opsPerSecond").asDouble()) {
            best = st;
          }
        }
        if (best == null) {
          continue;
        }
        JsonNode sat =
            r.path("derived").path("saturationConcurrency").path(m.path("mode").asText());
        JsonNode svc = best.path("serviceCpu").path("microsPerOp");
        sb.append("| `")
            .append(name)
            .append("` | ")
            .append(m.path("mode").asText())
            .append(" | ")
            .append(fmt(best.path("opsPerSecond").asDouble()))
            .append(" | ")
            .append(best.path("concurrency").asInt())
            .append(" | ")
            .append(sat.isMissingNode() ? "-" : sat.asText())
            .append(" | ")
            .append(svc.isNumber() ? fmt(svc.asDouble()) : "-")
            .append(" |\n");
      }
    }
    return sb.toString();
  }

  static String fmt(double v) {
    return Math.abs(v) >= 100
        ? String.format(Locale.ROOT, "%,.0f", v)
        : String.format(Locale.ROOT, "%.2f", v);
  }

  /** Reports in the folder, by name: for tests and the command's message. */
  public Map<String, Boolean> present() {
    Map<String, Boolean> m = new TreeMap<>();
    for (Target t : TARGETS) {
      m.put(t.report(), load(t.report()) != null);
    }
    return m;
  }
}
