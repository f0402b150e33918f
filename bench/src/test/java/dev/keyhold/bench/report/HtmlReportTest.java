package dev.keyhold.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
  @TempDir Path dir;

  @Test
  void render_inlinesChartJsAndTheReport_withoutRemoteResources() throws Exception {
    Path f = dir.resolve("report.html");
    HtmlReport.write(ReportFixtures.report(), f);
    String html = Files.readString(f);

    assertThat(html).contains("Chart.js v4").contains("new Chart(");
    assertThat(html).doesNotContain("{{").doesNotContain("/*{{CHART_JS}}*/");
    assertThat(html)
        .doesNotContainPattern("<script[^>]+src=")
        .doesNotContainPattern("<link[^>]+href=\"https?:");
    // The title is escaped in <title>; the data block parses back to the same report.
    assertThat(html)
        .contains(
            "<title>Keyhold sign rsa_pkcs1_sha256 with rsa2048 (RSA-2048) &lt;test&gt;</title>");
    Matcher m =
        Pattern.compile(
                "<script type=\"application/json\" id=\"report-data\">(.*?)</script>",
                Pattern.DOTALL)
            .matcher(html);
    assertThat(m.find()).isTrue();
    JsonNode data = new ObjectMapper().readTree(m.group(1));
    assertThat(data.at("/modes/1/mode").asText()).isEqualTo("pkcs11-direct");
    assertThat(data.at("/title").asText()).endsWith("<test>");
    for (String canvas : new String[] {"throughput", "latency", "percentiles", "cpu"}) {
      assertThat(html).contains("<canvas id=\"" + canvas + "\">");
    }
  }

  @Test
  void scriptSafe_neutralizesClosingTags() {
    assertThat(HtmlReport.scriptSafe("{\"a\":\"</script><b>\"}"))
        .isEqualTo("{\"a\":\"<\\/script><b>\"}");
  }
}
