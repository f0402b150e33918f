package dev.keyhold.bench.timing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.bench.timing.PremasterVariants.Variant;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

class PremasterVariantsTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Index of the first zero after the block type, or -1. */
  private static int separator(byte[] b) {
    for (int i = 2; i < b.length; i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void plaintext_eachVariantBreaksExactlyWhatItsNameSays() {
    int k = 256;
    for (int round = 0; round < 50; round++) {
      for (Variant v : Variant.values()) {
        byte[] b = PremasterVariants.plaintext(v, k, RANDOM);
        assertThat(b).hasSize(k);
        int sep = separator(b);
        switch (v) {
          case VALID -> {
            assertThat(b[0]).isZero();
            assertThat(b[1]).isEqualTo((byte) 2);
            assertThat(sep).isEqualTo(k - 49);
            assertThat(b[sep + 1]).isEqualTo((byte) 3);
            assertThat(b[sep + 2]).isEqualTo((byte) 3);
          }
          case WRONG_FIRST_BYTE -> assertThat(b[0]).isEqualTo((byte) 1);
          case WRONG_BLOCK_TYPE -> assertThat(b[1]).isEqualTo((byte) 1);
          case NO_ZERO_SEPARATOR -> assertThat(sep).isEqualTo(-1);
          case SEPARATOR_IN_FIRST_8_PADDING_BYTES -> assertThat(sep).isLessThan(2 + 8);
          case PLAINTEXT_LENGTH_47 -> assertThat(k - sep - 1).isEqualTo(47);
          case PLAINTEXT_LENGTH_49 -> assertThat(k - sep - 1).isEqualTo(49);
          case WRONG_VERSION -> {
            assertThat(k - sep - 1).isEqualTo(48);
            assertThat(b[sep + 2]).isEqualTo((byte) 1);
          }
          case ALL_ZEROS -> assertThat(b).containsOnly(0);
        }
        if (v != Variant.WRONG_FIRST_BYTE && v != Variant.WRONG_BLOCK_TYPE && v != Variant.ALL_ZEROS) {
          assertThat(Arrays.copyOfRange(b, 0, 2)).containsExactly(0, 2);
        }
      }
    }
  }

  @Test
  void sample_encryptsTheBlockWithThePublicKey_andOnlyValidHasAnExpectedPremaster()
      throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    var kp = g.generateKeyPair();
    Cipher raw = Cipher.getInstance("RSA/ECB/NoPadding");
    raw.init(Cipher.DECRYPT_MODE, (RSAPrivateKey) kp.getPrivate());
    Cipher pkcs1 = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    Map<Variant, Integer> decodable = new EnumMap<>(Variant.class);
    for (Variant v : Variant.values()) {
      var s = PremasterVariants.sample(v, (RSAPublicKey) kp.getPublic(), RANDOM);
      assertThat(s.ciphertext()).hasSize(256);
      byte[] block = raw.doFinal(s.ciphertext());
      if (v == Variant.VALID) {
        assertThat(Arrays.copyOfRange(block, 256 - 48, 256)).isEqualTo(s.expectedPremaster());
        pkcs1.init(Cipher.DECRYPT_MODE, kp.getPrivate());
        assertThat(pkcs1.doFinal(s.ciphertext())).isEqualTo(s.expectedPremaster());
      } else {
        assertThat(s.expectedPremaster()).isNull();
      }
      decodable.put(v, block.length);
    }
    assertThat(decodable.keySet()).containsExactlyElementsOf(List.of(Variant.values()));
  }

  @Test
  void schedule_shufflesEveryVariantEquallyOften_reproducibly() {
    var a = TimingBench.schedule(100, 7);
    assertThat(a).hasSize(100 * Variant.values().length);
    for (Variant v : Variant.values()) {
      assertThat(a.stream().filter(x -> x == v).count()).isEqualTo(100);
    }
    assertThat(TimingBench.schedule(100, 7)).isEqualTo(a);
    assertThat(a.subList(0, Variant.values().length))
        .isNotEqualTo(List.of(Variant.values())); // shuffled, not in declaration order
  }

  @Test
  void analyse_flagsAShiftedVariant_andNotTheIdenticalOnes() {
    Map<Variant, double[]> m = new EnumMap<>(Variant.class);
    var rnd = new java.util.Random(3);
    for (Variant v : Variant.values()) {
      double shift = v == Variant.WRONG_VERSION ? 50 : 0;
      double[] x = new double[400];
      for (int i = 0; i < x.length; i++) {
        x[i] = 500 + shift + rnd.nextGaussian() * 10;
      }
      m.put(v, x);
    }
    var r = TimingBench.analyse("k", new TimingBench.Settings(400, 0, 1, 500), m);
    assertThat(r.variantsDifferingAtAlpha()).containsExactly("wrong_version");
    var wv = r.variants().stream().filter(x -> x.variant().equals("wrong_version")).findFirst();
    assertThat(wv.orElseThrow().medianMinusValidMicros().low()).isGreaterThan(40);
    assertThat(r.variants().get(0).versusValid()).isNull();
    assertThat(TimingBench.markdown(r)).contains("| wrong_version | 400 |").contains("Differing");
  }
}
