package dev.keyhold.bench.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.bench.report.LatencySummary;
import dev.keyhold.bench.report.ModeResult;
import dev.keyhold.bench.report.Ratio;
import dev.keyhold.bench.report.StepResult;
import dev.keyhold.bench.report.StepResult.CpuUsage;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpsBenchTest {
  private static final KeyInfo RSA =
      KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_RSA).setKeyBits(2048).build();
  private static final KeyInfo EC =
      KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_EC).setCurve("secp256r1").build();

  private static Workload sign() throws Exception {
    return Workload.sign(SignatureScheme.RSA_PKCS1_SHA256);
  }

  private static StepResult step(int c, double rate, double p50) {
    return step(c, rate, p50, null, null, null, null);
  }

  private static StepResult step(
      int c,
      double rate,
      double p50,
      CpuUsage client,
      CpuUsage service,
      Long peakRss,
      Double background) {
    return new StepResult(
        c,
        1,
        (long) rate,
        rate,
        new LatencySummary((long) rate, p50, p50, p50, p50, p50, p50),
        Map.of(),
        client,
        service,
        null,
        null,
        null,
        peakRss,
        background,
        null,
        null);
  }

  @Test
  void ratios_peakAndPerStep_withTheIssueTargets() throws Exception {
    List<ModeResult> modes =
        List.of(
            new ModeResult("keyhold", "", List.of(step(1, 1000, 700), step(2, 1800, 900))),
            new ModeResult("pkcs11-direct", "", List.of(step(1, 2000, 500), step(2, 2000, 800))),
            new ModeResult("jce", "", List.of(step(1, 4000, 250))));
    List<Ratio> r = OpsBench.ratios(modes, RSA, sign(), 0);
    assertThat(r)
        .contains(
            new Ratio("keyhold", "pkcs11-direct", 0, 0.9, 0.85),
            new Ratio("keyhold", "pkcs11-direct", 1, 0.5, 0.80),
            new Ratio("keyhold", "pkcs11-direct", 2, 0.9, null),
            new Ratio("keyhold", "jce", 0, 0.45, null),
            new Ratio("keyhold", "jce", 1, 0.25, null));
    assertThat(r.get(0).met()).isTrue();
    assertThat(r.get(1).met()).isFalse();

    assertThat(OpsBench.ratios(modes, EC, Workload.sign(SignatureScheme.ECDSA_SECP256R1_SHA256), 0))
        .first()
        .extracting(Ratio::target)
        .isEqualTo(0.5);
    assertThat(OpsBench.ratios(modes, RSA, Workload.decryptPremaster(), 0))
        .first()
        .extracting(Ratio::target)
        .isEqualTo(0.90);
  }

  @Test
  void ratios_equalHsmConcurrency_comparesKeyholdPeakWithDirectAtSessionThreads() throws Exception {
    List<ModeResult> modes =
        List.of(
            new ModeResult("keyhold", "", List.of(step(1, 1000, 700), step(32, 1800, 900))),
            new ModeResult(
                "pkcs11-direct",
                "",
                List.of(step(1, 2000, 500), step(4, 1500, 800), step(32, 2400, 900))));
    assertThat(OpsBench.ratios(modes, RSA, sign(), 4))
        .contains(
            new Ratio("keyhold", "pkcs11-direct", 0, 0.75, 0.85),
            new Ratio("keyhold", "pkcs11-direct with 4 threads = hsm.sessions", 0, 1.2, null));
  }

  @Test
  void sweep_addsTheSessionCountOnceInOrder() throws Exception {
    assertThat(OpsBench.sweep(List.of(32, 1, 8), 4)).containsExactly(1, 4, 8, 32);
    assertThat(OpsBench.sweep(List.of(1, 4), 4)).containsExactly(1, 4);
    assertThat(OpsBench.sweep(List.of(1, 4), 0)).containsExactly(1, 4);
  }

  @Test
  void opensslProcesses_isConcurrencyCappedAtCpus() throws Exception {
    assertThat(OpsBench.opensslProcesses(1, 2)).isEqualTo(1);
    assertThat(OpsBench.opensslProcesses(8, 2)).isEqualTo(2);
    assertThat(OpsBench.opensslProcesses(32, 2)).isEqualTo(2);
    assertThat(OpsBench.opensslProcesses(3, 8)).isEqualTo(3);
  }

  @Test
  void opensslStep_usesTheMeasuredOpsAndSeconds() throws Exception {
    StepResult s = OpsBench.opensslStep(8, new OpensslSpeed.Result(2, 448, 1.02, 447.5), null, 0.1);
    assertThat(s.concurrency()).isEqualTo(8);
    assertThat(s.ops()).isEqualTo(448);
    assertThat(s.seconds()).isEqualTo(1.02);
    assertThat(s.opsPerSecond()).isEqualTo(447.5);
    assertThat(s.backgroundCores()).isEqualTo(0.1);
  }

  @Test
  void derived_overheadIsServiceCpuMinusTheHsmOperationsOwnCpu_perConcurrency() throws Exception {
    List<ModeResult> modes =
        List.of(
            new ModeResult(
                "keyhold",
                "",
                List.of(
                    step(
                        1,
                        1000,
                        700,
                        new CpuUsage(0.1, 40),
                        new CpuUsage(0.6, 560),
                        200L << 20,
                        0.0),
                    step(
                        32,
                        3000,
                        900,
                        new CpuUsage(0.1, 42),
                        new CpuUsage(1.7, 573),
                        250L << 20,
                        0.0))),
            new ModeResult(
                "pkcs11-direct",
                "",
                List.of(
                    step(1, 2000, 500, new CpuUsage(0.9, 460), null, null, 0.0),
                    step(32, 4000, 800, new CpuUsage(1.9, 466), null, null, 0.0))));
    List<String> notes = new ArrayList<>();
    Map<String, Object> d = OpsBench.derived(modes, sign(), 4, notes);
    assertThat(d)
        .containsEntry("addedP50MicrosAtConcurrency1", 200.0)
        .containsEntry("addedP50MicrosTarget", 100.0)
        .containsEntry("serviceOverheadCpuMicrosPerOp", Map.of("c=1", 100.0, "c=32", 107.0))
        .containsEntry("hsmOperationCpuMicrosPerOp", Map.of("c=1", 460.0, "c=32", 466.0))
        .containsEntry("serviceOverheadCpuMicrosPerOpAtPeakLoad", 107.0)
        .containsEntry("serviceOverheadCpuMicrosPerOpAt", "c=32")
        .containsEntry("serviceOverheadCpuMicrosTarget", 60.0)
        .containsEntry("servicePeakRssMiB", 250.0)
        .containsEntry("servicePeakRssTargetMiB", 300.0)
        .containsEntry("hsmSessions", 4)
        .containsEntry("backgroundMismatch", List.of());
    assertThat(notes).isEmpty();
    assertThat(OpsBench.derived(modes, Workload.decryptPremaster(), 4, notes))
        .containsEntry("serviceOverheadCpuMicrosTarget", 40.0);
  }

  @Test
  void overheadMicros_unknownWithoutBothCpuFigures() throws Exception {
    StepResult kh = step(1, 1000, 700, null, new CpuUsage(0.6, 560), null, null);
    StepResult direct = step(1, 2000, 500, null, null, null, null);
    assertThat(OpsBench.overheadMicros(kh, direct)).isNull();
    assertThat(OpsBench.overheadMicros(kh, null)).isNull();
  }

  @Test
  void saturationConcurrency_isTheLowestReachingNinetyFivePercentOfPeak() throws Exception {
    ModeResult m =
        new ModeResult(
            "keyhold",
            "",
            List.of(step(1, 1000, 1), step(4, 2900, 1), step(8, 3000, 1), step(16, 2950, 1)));
    assertThat(OpsBench.saturationConcurrency(m)).hasValue(4);
    assertThat(OpsBench.saturationConcurrency(new ModeResult("x", "", List.of()))).isEmpty();
  }

  @Test
  void backgroundMismatches_marksStepsWhoseModesSawDifferentLoad_andNotesIt() throws Exception {
    List<ModeResult> modes =
        List.of(
            new ModeResult(
                "keyhold",
                "",
                List.of(
                    step(1, 1000, 1, null, null, null, 0.02),
                    step(8, 1000, 1, null, null, null, 0.05))),
            new ModeResult(
                "pkcs11-direct",
                "",
                List.of(
                    step(1, 1000, 1, null, null, null, 0.10),
                    step(8, 1000, 1, null, null, null, 0.45))));
    assertThat(OpsBench.backgroundMismatches(modes))
        .containsExactly("c=8 keyhold 0.05 vs pkcs11-direct 0.45 cores");
    List<String> notes = new ArrayList<>();
    OpsBench.derived(modes, sign(), 0, notes);
    assertThat(notes).singleElement().asString().contains("c=8").contains("do not publish");
  }
}
