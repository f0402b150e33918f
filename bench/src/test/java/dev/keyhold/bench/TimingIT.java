package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code timing} briefly against a real service on SoftHSM: every valid ciphertext must come
 * back as its pre-master (the command fails otherwise), and the report must hold every kind with
 * its statistics. Never judges the timing itself.
 */
class TimingIT {
  @TempDir Path dir;

  @Test
  void timing_fewCalls_writesEveryVariantWithStatistics() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      int rc =
          BenchMain.run(
              "timing",
              "--target",
              svc.target(),
              "--ca",
              svc.caCert().toString(),
              "--cert",
              svc.clientCert("test-client").toString(),
              "--key",
              svc.clientKey("test-client").toString(),
              "--key-name",
              "rsa2048",
              "--calls-per-variant",
              "30",
              "--warmup-calls",
              "20",
              "--resamples",
              "200",
              "--out",
              dir.toString());
      assertThat(rc).isZero();
    }
    JsonNode j = new ObjectMapper().readTree(dir.resolve("timing-rsa2048.json").toFile());
    JsonNode variants = j.at("/result/variants");
    assertThat(variants).hasSize(9);
    assertThat(variants.get(0).get("variant").asText()).isEqualTo("valid");
    for (int i = 1; i < variants.size(); i++) {
      JsonNode v = variants.get(i);
      assertThat(v.get("calls").asInt()).isEqualTo(30);
      assertThat(v.at("/versusValid/pTwoSided").asDouble()).isBetween(0.0, 1.0);
      assertThat(v.at("/medianMinusValidMicros/low").asDouble())
          .isLessThanOrEqualTo(v.at("/medianMinusValidMicros/high").asDouble());
      assertThat(v.get("p50Micros").asDouble()).isPositive();
    }
    assertThat(j.at("/result/pooledInvalidVersusValid/pTwoSided").asDouble()).isBetween(0.0, 1.0);
    assertThat(Files.readString(dir.resolve("timing-rsa2048.md")))
        .contains("| valid | 30 |")
        .contains("all invalid pooled");
  }
}
