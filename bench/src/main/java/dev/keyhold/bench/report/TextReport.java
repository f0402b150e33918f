package dev.keyhold.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Renders a {@link BenchReport} as the plain-text table printed at the end of a run and pasted into
 * READMEs.
 */
public final class TextReport {
  private TextReport() {}

  /** The column headers of a step line, matching {@link #stepRow}. */
  public static List<String> header(String unit) {
    return List.of(
        "mode",
        "conc",
        unit + "/s",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "p99.9 µs",
        "max µs",
        "errors",
        "client CPU",
        "service CPU",
        "svc RSS");
  }

  /**
   * Fixed widths for rows printed one by one while a run goes on, before the final table is known.
   */
  private static final int[] STREAM_WIDTHS = {14, 5, 10, 8, 8, 8, 9, 9, 8, 20, 20, 8};

  /** One row (header or step) padded to fixed widths, for printing as each step finishes. */
  public static String streamRow(List<String> cells) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      String pad = " ".repeat(Math.max(0, STREAM_WIDTHS[i] - cell.length()));
      line.append(i == 0 ? cell + pad : pad + cell).append(i < cells.size() - 1 ? "  " : "");
    }
    return line.toString().stripTrailing();
  }

  /** One step as table cells. */
  public static List<String> stepRow(String mode, StepResult s) {
    boolean hasLatency = s.latency().count() > 0;
    return List.of(
        mode,
        Integer.toString(s.concurrency()),
        String.format(Locale.ROOT, "%,.0f", s.opsPerSecond()),
        hasLatency ? num(s.latency().p50()) : "-",
        hasLatency ? num(s.latency().p90()) : "-",
        hasLatency ? num(s.latency().p99()) : "-",
        hasLatency ? num(s.latency().p999()) : "-",
        hasLatency ? num(s.latency().max()) : "-",
        s.errors().isEmpty()
            ? "0"
            : s.errors().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(",")),
        cpu(s.clientCpu()),
        cpu(s.serviceCpu()),
        s.serviceRssBytes() == null ? "-" : (s.serviceRssBytes() / 1048576) + " MiB");
  }

  public static String render(BenchReport r) {
    String unit = r.kind().equals("handshakes") ? "hs" : "ops";
    StringBuilder out = new StringBuilder();
    out.append(r.title()).append('\n');
    out.append(
        String.format(
            Locale.ROOT,
            "%d CPUs (%s), load %.2f at start, %s%n",
            r.environment().cpus(),
            r.environment().cpuModel(),
            r.environment().loadAverage(),
            r.environment().jdk()));
    List<List<String>> rows = new ArrayList<>();
    rows.add(header(unit));
    for (ModeResult m : r.modes()) {
      for (StepResult s : m.steps()) {
        rows.add(stepRow(m.mode(), s));
      }
    }
    out.append(table(rows));
    if (!r.ratios().isEmpty()) {
      out.append("\nratios (throughput, mode / baseline):\n");
      for (Ratio x : r.ratios()) {
        if (x.concurrency() != 0) {
          continue;
        }
        out.append(
            String.format(
                Locale.ROOT, "  %s / %s at peak: %.3f", x.mode(), x.baseline(), x.value()));
        if (x.target() != null) {
          out.append(
              String.format(
                  Locale.ROOT, "  (target >= %.2f: %s)", x.target(), x.met() ? "met" : "MISSED"));
        }
        String perStep =
            r.ratios().stream()
                .filter(
                    y ->
                        y.concurrency() != 0
                            && y.mode().equals(x.mode())
                            && y.baseline().equals(x.baseline()))
                .map(y -> y.where() + " " + String.format(Locale.ROOT, "%.2f", y.value()))
                .collect(Collectors.joining(", "));
        if (!perStep.isEmpty()) {
          out.append("  [").append(perStep).append(']');
        }
        out.append('\n');
      }
    }
    for (Map.Entry<String, Object> e : r.derived().entrySet()) {
      out.append("  ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    for (String n : r.notes()) {
      out.append("note: ").append(n).append('\n');
    }
    return out.toString();
  }

  /** Left-aligns the first column and right-aligns the rest, with a rule under the header. */
  public static String table(List<List<String>> rows) {
    int cols = rows.get(0).size();
    int[] w = new int[cols];
    for (List<String> row : rows) {
      for (int i = 0; i < cols; i++) {
        w[i] = Math.max(w[i], row.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (int r = 0; r < rows.size(); r++) {
      List<String> row = rows.get(r);
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        String cell = row.get(i);
        String pad = " ".repeat(w[i] - cell.length());
        line.append(i == 0 ? cell + pad : pad + cell).append(i < cols - 1 ? "  " : "");
      }
      out.append(line.toString().stripTrailing()).append('\n');
      if (r == 0) {
        int total = 0;
        for (int x : w) {
          total += x + 2;
        }
        out.append("-".repeat(total - 2)).append('\n');
      }
    }
    return out.toString();
  }

  private static String num(double micros) {
    return micros >= 100
        ? String.format(Locale.ROOT, "%,.0f", micros)
        : String.format(Locale.ROOT, "%.1f", micros);
  }

  private static String cpu(StepResult.CpuUsage c) {
    return c == null
        ? "-"
        : String.format(Locale.ROOT, "%.2f (%,.0fµs/op)", c.cores(), c.microsPerOp());
  }
}
