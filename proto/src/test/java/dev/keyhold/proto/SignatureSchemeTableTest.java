package dev.keyhold.proto;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.SignatureScheme.Hash;
import dev.keyhold.proto.SignatureScheme.Padding;
import dev.keyhold.proto.v1.KeyType;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The scheme table written out once more, independently of the enum (RFC 8446 §4.2.3 code points
 * and names), so that any silent change to a row, to the minimum RSA sizes or to the key-fit rule
 * fails here. Written to kill PIT's surviving and uncovered mutants in {@link SignatureScheme}.
 */
class SignatureSchemeTableTest {

  @ParameterizedTest
  @CsvSource({
    "RSA_PKCS1_SHA256, 0x0401, rsa_pkcs1_sha256, KEY_TYPE_RSA, SHA256, PKCS1, , 496",
    "RSA_PKCS1_SHA384, 0x0501, rsa_pkcs1_sha384, KEY_TYPE_RSA, SHA384, PKCS1, , 624",
    "RSA_PKCS1_SHA512, 0x0601, rsa_pkcs1_sha512, KEY_TYPE_RSA, SHA512, PKCS1, , 752",
    "RSA_PSS_RSAE_SHA256, 0x0804, rsa_pss_rsae_sha256, KEY_TYPE_RSA, SHA256, PSS, , 529",
    "RSA_PSS_RSAE_SHA384, 0x0805, rsa_pss_rsae_sha384, KEY_TYPE_RSA, SHA384, PSS, , 785",
    "RSA_PSS_RSAE_SHA512, 0x0806, rsa_pss_rsae_sha512, KEY_TYPE_RSA, SHA512, PSS, , 1041",
    "ECDSA_SECP256R1_SHA256, 0x0403, ecdsa_secp256r1_sha256, KEY_TYPE_EC, SHA256, ECDSA, secp256r1,"
        + " 0",
    "ECDSA_SECP384R1_SHA384, 0x0503, ecdsa_secp384r1_sha384, KEY_TYPE_EC, SHA384, ECDSA, secp384r1,"
        + " 0",
    "ECDSA_SECP521R1_SHA512, 0x0603, ecdsa_secp521r1_sha512, KEY_TYPE_EC, SHA512, ECDSA, secp521r1,"
        + " 0",
  })
  void everyRow_matchesTheIndependentTable(
      SignatureScheme s,
      String code,
      String iana,
      KeyType type,
      Hash hash,
      Padding padding,
      String curve,
      int minRsaBits) {
    assertThat(s.codePoint()).isEqualTo(Integer.decode(code));
    assertThat(SignatureScheme.fromCodePoint(Integer.decode(code))).contains(s);
    assertThat(s.ianaName()).isEqualTo(iana);
    assertThat(s.keyType()).isEqualTo(type);
    assertThat(s.hash()).isEqualTo(hash);
    assertThat(s.padding()).isEqualTo(padding);
    assertThat(s.curve()).isEqualTo(curve);
    assertThat(s.minRsaBits()).isEqualTo(minRsaBits);
  }

  @Test
  void forKeyType_listsExactlyThatTypesSchemes() {
    assertThat(SignatureScheme.forKeyType(KeyType.KEY_TYPE_EC))
        .containsExactly(
            SignatureScheme.ECDSA_SECP256R1_SHA256,
            SignatureScheme.ECDSA_SECP384R1_SHA384,
            SignatureScheme.ECDSA_SECP521R1_SHA512);
    assertThat(SignatureScheme.forKeyType(KeyType.KEY_TYPE_RSA))
        .hasSize(6)
        .allMatch(s -> s.keyType() == KeyType.KEY_TYPE_RSA);
    assertThat(SignatureScheme.forKeyType(KeyType.KEY_TYPE_UNSPECIFIED)).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(
      value = SignatureScheme.class,
      names = {"RSA_.*"},
      mode = EnumSource.Mode.MATCH_ANY)
  void rsaFits_exactlyFromMinRsaBits(SignatureScheme s) {
    assertThat(s.fits(KeyType.KEY_TYPE_RSA, s.minRsaBits(), null)).isTrue();
    assertThat(s.fits(KeyType.KEY_TYPE_RSA, s.minRsaBits() - 1, null)).isFalse();
    assertThat(s.fits(KeyType.KEY_TYPE_EC, 4096, null)).isFalse();
  }

  @ParameterizedTest
  @EnumSource(
      value = SignatureScheme.class,
      names = {"ECDSA_.*"},
      mode = EnumSource.Mode.MATCH_ANY)
  void ecFits_onlyItsOwnCurve(SignatureScheme s) {
    assertThat(s.fits(KeyType.KEY_TYPE_EC, 0, s.curve())).isTrue();
    assertThat(s.fits(KeyType.KEY_TYPE_EC, 0, "secp224r1")).isFalse();
    assertThat(s.fits(KeyType.KEY_TYPE_RSA, 4096, s.curve())).isFalse();
  }

  @ParameterizedTest
  @EnumSource(Hash.class)
  void digestInfo_isPrefixThenDigest(Hash h) {
    byte[] digest = new byte[h.length()];
    for (int i = 0; i < digest.length; i++) {
      digest[i] = (byte) (i + 1);
    }
    String expected =
        HexFormat.of().formatHex(h.digestInfoPrefix()) + HexFormat.of().formatHex(digest);
    assertThat(HexFormat.of().formatHex(h.digestInfo(digest))).isEqualTo(expected);
    assertThat(h.digestInfoPrefix()).hasSize(19);
  }
}
