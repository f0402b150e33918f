package dev.keyhold.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonReportTest {
  @TempDir Path dir;

  @Test
  void write_fullReport_containsEveryNumberSettingAndEnvironment() throws Exception {
    Path f = dir.resolve("sub/report.json");
    JsonReport.write(ReportFixtures.report(), f);
    JsonNode j = new ObjectMapper().readTree(f.toFile());

    assertThat(j.get("kind").asText()).isEqualTo("ops");
    assertThat(j.get("command").asText()).startsWith("keyhold-bench ops");
    JsonNode env = j.get("environment");
    assertThat(env.get("cpus").asInt()).isEqualTo(2);
    for (String k :
        new String[] {
          "cpuModel",
          "loadAverage",
          "jdk",
          "jvm",
          "benchVersion",
          "grpcVersion",
          "opensslVersion",
          "softhsmVersion",
          "os",
          "arch"
        }) {
      assertThat(env.has(k)).as(k).isTrue();
    }
    assertThat(j.at("/settings/key").asText()).isEqualTo("rsa2048");
    assertThat(j.at("/settings/scheme").asText()).isEqualTo("rsa_pkcs1_sha256");

    JsonNode step = j.at("/modes/0/steps/1");
    assertThat(j.at("/modes/0/mode").asText()).isEqualTo("keyhold");
    assertThat(j.at("/modes/0/peakOpsPerSecond").asDouble()).isEqualTo(3000.0);
    assertThat(step.get("concurrency").asInt()).isEqualTo(2);
    assertThat(step.get("ops").asLong()).isEqualTo(step.at("/latency/count").asLong());
    for (String k : new String[] {"p50", "p90", "p99", "p999", "max", "mean"}) {
      assertThat(step.at("/latency/" + k).isNumber()).as(k).isTrue();
    }
    assertThat(step.at("/clientCpu/cores").asDouble()).isEqualTo(0.5);
    assertThat(step.at("/serviceCpu/microsPerOp").asDouble()).isEqualTo(480.0);
    assertThat(step.get("serviceRssBytes").asLong()).isEqualTo(200L * 1048576);
    assertThat(step.get("serviceRssStartBytes").asLong()).isEqualTo(190L * 1048576);
    assertThat(step.get("errors").isObject()).isTrue();

    assertThat(j.at("/ratios/0/value").asDouble()).isEqualTo(0.789);
    assertThat(j.at("/ratios/0/target").asDouble()).isEqualTo(0.85);
    assertThat(j.at("/ratios/0/met").asBoolean()).isFalse();
    assertThat(j.at("/derived/addedP50MicrosAtConcurrency1").asDouble()).isEqualTo(120.5);
    assertThat(j.at("/notes/0").asText()).contains("/proc");
  }
}
