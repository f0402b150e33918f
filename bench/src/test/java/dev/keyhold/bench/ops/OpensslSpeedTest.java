package dev.keyhold.bench.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import org.junit.jupiter.api.Test;

class OpensslSpeedTest {
  @Test
  void parse_multiRsaOutput_sumsEachProcessMeasuredOpsAndKeepsItsSeconds() {
    // Real `openssl speed -mr -elapsed -seconds 1 -multi 2 rsa2048` output (OpenSSL 3.0).
    String out =
        "Forked child 0\n"
            + "+DTP:2048:private:rsa:1\n"
            + "+DTP:2048:private:rsa:1\n"
            + "+R1:242:2048:1.02\n"
            + "+DTP:2048:public:rsa:1\n"
            + "+R1:206:2048:0.98\n"
            + "+R2:3757:2048:1.01\n"
            + "+R2:3504:2048:1.01\n"
            + "Forked child 1\n"
            + "Got: +F2:2:2048:237.2:3700.0 from 0\n"
            + "+F2:2:2048:439.215686:7189.108911\n";
    var r = OpensslSpeed.parse(out, 2).orElseThrow();
    assertThat(r.processes()).isEqualTo(2);
    assertThat(r.ops()).isEqualTo(448);
    assertThat(r.seconds()).isEqualTo(1.02);
    // 242 / 1.02 + 206 / 0.98 = 237.25 + 210.20
    assertThat(r.opsPerSecond()).isEqualTo(447.5);
  }

  @Test
  void parse_ecdsaOutput_readsR5() {
    var r =
        OpensslSpeed.parse("+R5:4903:256:0.50\n+R6:1468:256:0.20\n+F4:3:256:9806.0:7340.0\n", 1)
            .orElseThrow();
    assertThat(r.ops()).isEqualTo(4903);
    assertThat(r.seconds()).isEqualTo(0.5);
    assertThat(r.opsPerSecond()).isEqualTo(9806.0);
  }

  @Test
  void parse_fewerProcessLinesThanProcesses_isEmpty() {
    assertThat(OpensslSpeed.parse("+R1:242:2048:1.02\n", 2)).isEmpty();
  }

  @Test
  void parse_garbage_isEmpty() {
    assertThat(OpensslSpeed.parse("speed: unknown algorithm", 1)).isEmpty();
  }

  @Test
  void command_measuresWallTimeAndUsesMultiAboveOne() {
    assertThat(OpensslSpeed.command("rsa2048", 5, 1))
        .containsExactly("openssl", "speed", "-mr", "-elapsed", "-seconds", "5", "rsa2048");
    assertThat(OpensslSpeed.command("rsa2048", 5, 2)).containsSubsequence("-multi", "2", "rsa2048");
  }

  @Test
  void algorithm_mapsKeysToSpeedNames() {
    assertThat(
            OpensslSpeed.algorithm(
                KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_RSA).setKeyBits(2048).build()))
        .hasValue("rsa2048");
    assertThat(
            OpensslSpeed.algorithm(
                KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_EC).setCurve("secp256r1").build()))
        .hasValue("ecdsap256");
    assertThat(
            OpensslSpeed.algorithm(
                KeyInfo.newBuilder().setKeyType(KeyType.KEY_TYPE_RSA).setKeyBits(1536).build()))
        .isEmpty();
  }
}
