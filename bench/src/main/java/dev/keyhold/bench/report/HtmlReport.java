package dev.keyhold.bench.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a self-contained HTML report: the report's JSON, the page's script and Chart.js are all
 * inlined, so the file opens offline and keeps working when moved or mailed. Chart.js comes from
 * its WebJar on the classpath (MIT licence, kept in the page with its banner comment).
 */
public final class HtmlReport {
  static final String TEMPLATE = "/dev/keyhold/bench/report.html";

  private HtmlReport() {}

  public static String render(BenchReport report) throws IOException {
    String template = resource(TEMPLATE);
    String chartJs =
        resource(
            "/META-INF/resources/webjars/chart.js/"
                + Environment.benchProperty("chartjs.version")
                + "/dist/chart.umd.js");
    String json = JsonReport.toJson(report);
    // Replacement order matters: the report JSON goes in last so no placeholder inside it is
    // touched.
    return template
        .replace("{{TITLE}}", escapeHtml(report.title()))
        .replace("/*{{CHART_JS}}*/", scriptSafe(chartJs))
        .replace("{{REPORT_JSON}}", scriptSafe(json));
  }

  public static void write(BenchReport report, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, render(report));
  }

  /**
   * Inside a script element only "&lt;/" can end it early; "&lt;\/" means the same to JavaScript
   * and JSON.
   */
  static String scriptSafe(String js) {
    return js.replace("</", "<\\/");
  }

  static String escapeHtml(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = HtmlReport.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException(
            "missing resource " + name + " (is the Chart.js WebJar on the classpath?)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
