package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.SoftwareKey;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public facts of a key: type, size, curve, schemes, version and identity. */
class KeyDescriptionTest {
  private static SoftwareKey rsa;
  private static SoftwareKey ec;

  @BeforeAll
  static void keys() throws Exception {
    rsa = SoftwareKey.rsa("rsa2048", 2048);
    ec = SoftwareKey.ec("ec-p384", "secp384r1");
  }

  @Test
  void of_rsaKey_isRsaWithItsSizeAndRsaSchemes() {
    KeyDescription d = rsa.description();

    assertThat(d.type()).isEqualTo(KeyType.KEY_TYPE_RSA);
    assertThat(d.bits()).isEqualTo(2048);
    assertThat(d.curve()).isNull();
    assertThat(d.modulusBytes()).isEqualTo(256);
    assertThat(d.schemes())
        .containsExactlyElementsOf(SignatureScheme.forKeyType(KeyType.KEY_TYPE_RSA));
    assertThat(d).hasToString("rsa2048 (RSA-2048)");
  }

  @Test
  void of_ecKey_isEcWithItsCurveAndOnlyItsScheme() {
    KeyDescription d = ec.description();

    assertThat(d.type()).isEqualTo(KeyType.KEY_TYPE_EC);
    assertThat(d.bits()).isEqualTo(384);
    assertThat(d.curve()).isEqualTo("secp384r1");
    assertThat(d.modulusBytes()).isZero();
    assertThat(d.schemes()).containsExactly(SignatureScheme.ECDSA_SECP384R1_SHA384);
    assertThat(d).hasToString("ec-p384 (EC secp384r1)");
  }

  @Test
  void of_otherKeyType_isRefused() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
    X509Certificate cert =
        LocalPki.create("ed CA").issueFor("ed", g.generateKeyPair().getPublic(), List.of(), false);

    assertThatThrownBy(() -> KeyDescription.of("ed", List.of(cert)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key 'ed' has unsupported type EdDSA");
  }

  @Test
  void spkiSha256_isTheHashOfThePublicKeyAndACopy() throws Exception {
    KeyDescription d = rsa.description();
    byte[] expected = MessageDigest.getInstance("SHA-256").digest(d.publicKey().getEncoded());

    byte[] pin = d.spkiSha256();
    assertThat(pin).isEqualTo(expected);
    pin[0] ^= 1;
    assertThat(d.spkiSha256()).isEqualTo(expected);
  }

  @Test
  void version_hashesTheKeyAndEveryCertificate() throws Exception {
    KeyDescription d = rsa.description();
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(d.publicKey().getEncoded());
    md.update(d.chain().get(0).getEncoded());
    String expected = HexFormat.of().formatHex(md.digest()).substring(0, 16);

    assertThat(d.version()).isEqualTo(expected);
    // A renewed certificate for the same key is a new version.
    X509Certificate renewed =
        LocalPki.create("renewing CA").issueFor("rsa2048", d.publicKey(), List.of(), false);
    assertThat(KeyDescription.of("rsa2048", List.of(renewed)).version()).isNotEqualTo(expected);
  }

  @Test
  void equals_sameNameAndKey_onlyThen() throws Exception {
    KeyDescription d = rsa.description();
    X509Certificate renewed =
        LocalPki.create("renewing CA").issueFor("rsa2048", d.publicKey(), List.of(), false);
    KeyDescription sameKey = KeyDescription.of("rsa2048", List.of(renewed));
    KeyDescription otherName = KeyDescription.of("rsa-other", List.of(renewed));
    KeyDescription otherKey =
        KeyDescription.of(
            "rsa2048", List.of(SoftwareKey.ec("x", "secp256r1").description().chain().get(0)));

    assertThat(d).isEqualTo(sameKey).hasSameHashCodeAs(sameKey);
    assertThat(d.hashCode()).isEqualTo("rsa2048".hashCode());
    assertThat(d).isNotEqualTo(otherName).isNotEqualTo(otherKey).isNotEqualTo("rsa2048");
  }
}
