package dev.keyhold.bench.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import org.junit.jupiter.api.Test;

class OpensslSpeedTest {
  @Test
  void parse_multiRsaOutput_takesTheSummedSummaryLine() {
    String out =
        "+R1:1081:2048:1.00\n"
            + "+R2:35571:2048:1.00\n"
            + "Forked child 1\n"
            + "Got: +F2:2:2048:1081.000000:38623.000000 from 0\n"
            + "Got: +F2:2:2048:1063.000000:35571.000000 from 1\n"
            + "+F2:2:2048:2144.000000:74194.000000\n";
    assertThat(OpensslSpeed.parse(out)).hasValue(2144.0);
  }

  @Test
  void parse_ecdsaOutput_readsF4() {
    assertThat(OpensslSpeed.parse("+R5:34759:256:0.98\n+F4:3:256:35468.367347:12255.000000\n"))
        .hasValue(35468.367347);
  }

  @Test
  void parse_garbage_isEmpty() {
    assertThat(OpensslSpeed.parse("speed: unknown algorithm")).isEmpty();
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
