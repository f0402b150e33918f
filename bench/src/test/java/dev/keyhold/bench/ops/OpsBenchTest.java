package dev.keyhold.bench.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.bench.report.LatencySummary;
import dev.keyhold.bench.report.ModeResult;
import dev.keyhold.bench.report.Ratio;
import dev.keyhold.bench.report.StepResult;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpsBenchTest {
  private static StepResult step(int c, double rate, double p50) {
    return new StepResult(
        c,
        1,
        (long) rate,
        rate,
        new LatencySummary((long) rate, p50, p50, p50, p50, p50, p50),
        Map.of(),
        null,
        null,
        null,
        null,
        null);
  }

  @Test
  void ratios_peakAndPerStep_withTargetsByKeyType() throws Exception {
    List<ModeResult> modes =
        List.of(
            new ModeResult("keyhold", "", List.of(step(1, 1000, 700), step(2, 1800, 900))),
            new ModeResult("pkcs11-direct", "", List.of(step(1, 2000, 500), step(2, 2000, 800))),
            new ModeResult("jce", "", List.of(step(1, 4000, 250))));
    KeyInfo rsa = KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_RSA).setKeyBits(2048).build();
    List<Ratio> r = OpsBench.ratios(modes, rsa, Workload.sign(SignatureScheme.RSA_PKCS1_SHA256));
    assertThat(r)
        .contains(
            new Ratio("keyhold", "pkcs11-direct", 0, 0.9, 0.85),
            new Ratio("keyhold", "pkcs11-direct", 1, 0.5, null),
            new Ratio("keyhold", "pkcs11-direct", 2, 0.9, null),
            new Ratio("keyhold", "jce", 0, 0.45, null),
            new Ratio("keyhold", "jce", 1, 0.25, null));
    assertThat(r.get(0).met()).isTrue();

    KeyInfo ec = KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_EC).setCurve("secp256r1").build();
    assertThat(
            OpsBench.ratios(modes, ec, Workload.sign(SignatureScheme.ECDSA_SECP256R1_SHA256))
                .get(0)
                .target())
        .isEqualTo(0.5);
  }

  @Test
  void derived_addedLatencyAtConcurrencyOne() {
    List<ModeResult> modes =
        List.of(
            new ModeResult("keyhold", "", List.of(step(1, 1000, 700))),
            new ModeResult("pkcs11-direct", "", List.of(step(1, 2000, 500))));
    assertThat(OpsBench.derived(modes))
        .containsEntry("addedP50MicrosAtConcurrency1", 200.0)
        .containsEntry("addedP50MicrosTarget", 150.0);
  }
}
