package dev.keyhold.proto;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.v1.KeyType;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class SignatureSchemeTest {

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void fromCodePoint_everyScheme_roundTrips(SignatureScheme scheme) {
    assertThat(SignatureScheme.fromCodePoint(scheme.codePoint())).contains(scheme);
  }

  @Test
  void codePoints_areUnique() {
    Set<Integer> seen = new HashSet<>();
    for (SignatureScheme s : SignatureScheme.values()) {
      assertThat(seen.add(s.codePoint())).as(s.ianaName()).isTrue();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0x0101, 0x0201, 0x0203, 0x0809, 0x0807, 0x0000, 0xffff})
  void fromCodePoint_legacyOrUnknown_isEmpty(int code) {
    assertThat(SignatureScheme.fromCodePoint(code)).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void jcaNames_resolveInTheJdk(SignatureScheme scheme) throws Exception {
    assertThat(MessageDigest.getInstance(scheme.hash().jcaName()).getDigestLength())
        .isEqualTo(scheme.hash().length());
    assertThat(Signature.getInstance(scheme.jcaSignatureName())).isNotNull();
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.Hash.class)
  void digestInfoPrefix_declaresTheDigestLength(SignatureScheme.Hash hash) {
    byte[] prefix = hash.digestInfoPrefix();
    assertThat(prefix[prefix.length - 1]).isEqualTo((byte) hash.length());
    assertThat(prefix[1] & 0xff).isEqualTo(prefix.length - 2 + hash.length());
  }

  @Test
  void fits_matchesTypeCurveAndSize() {
    assertThat(SignatureScheme.RSA_PSS_RSAE_SHA512.fits(KeyType.KEY_TYPE_RSA, 2048, null)).isTrue();
    assertThat(SignatureScheme.RSA_PSS_RSAE_SHA512.fits(KeyType.KEY_TYPE_RSA, 1024, null))
        .isFalse();
    assertThat(SignatureScheme.RSA_PSS_RSAE_SHA256.fits(KeyType.KEY_TYPE_EC, 256, "secp256r1"))
        .isFalse();
    assertThat(SignatureScheme.ECDSA_SECP256R1_SHA256.fits(KeyType.KEY_TYPE_EC, 256, "secp256r1"))
        .isTrue();
    assertThat(SignatureScheme.ECDSA_SECP384R1_SHA384.fits(KeyType.KEY_TYPE_EC, 256, "secp256r1"))
        .isFalse();
  }

  @Test
  void pssParameters_saltEqualsHashLength() {
    assertThat(SignatureScheme.RSA_PSS_RSAE_SHA384.pssParameters().getSaltLength()).isEqualTo(48);
    assertThat(SignatureScheme.RSA_PKCS1_SHA256.pssParameters()).isNull();
  }
}
