package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.HsmConfig.VerifyMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.testing.SoftwareKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Signer over software keys: every scheme verifies with the JDK, and a faulty "HSM" is caught. */
class SignerTest {
  private static final Signer SIGNER = new Signer(VerifyMode.ALL);
  private static SoftwareKey rsa;
  private static Map<String, SoftwareKey> ec;

  @BeforeAll
  static void keys() throws GeneralSecurityException {
    rsa = SoftwareKey.rsa("soft-rsa", 2048);
    ec =
        Map.of(
            "secp256r1", SoftwareKey.ec("soft-p256", "secp256r1"),
            "secp384r1", SoftwareKey.ec("soft-p384", "secp384r1"),
            "secp521r1", SoftwareKey.ec("soft-p521", "secp521r1"));
  }

  private static SoftwareKey keyFor(SignatureScheme s) {
    return s.curve() == null ? rsa : ec.get(s.curve());
  }

  private static boolean jdkVerify(SignatureScheme s, PublicKey pub, byte[] message, byte[] sig)
      throws GeneralSecurityException {
    Signature v = Signature.getInstance(s.jcaSignatureName());
    if (s.pssParameters() != null) {
      v.setParameter(s.pssParameters());
    }
    v.initVerify(pub);
    v.update(message);
    return v.verify(sig);
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void sign_everyScheme_verifiesWithTheJdkOverTheWholeMessage(SignatureScheme s)
      throws GeneralSecurityException {
    HsmKey key = keyFor(s);
    byte[] message = ("message for " + s.ianaName()).getBytes(StandardCharsets.UTF_8);
    byte[] digest = MessageDigest.getInstance(s.hash().jcaName()).digest(message);

    byte[] sig = SIGNER.sign(key, s, digest);

    assertThat(jdkVerify(s, key.description().publicKey(), message, sig)).isTrue();
    assertThat(Signer.verify(key.description(), s, digest, sig)).isTrue();
  }

  @ParameterizedTest
  @EnumSource(value = SignatureScheme.class, names = "RSA_PSS_.*", mode = EnumSource.Mode.MATCH_ANY)
  void sign_pss_usesAFreshSaltEachTime(SignatureScheme s) throws GeneralSecurityException {
    byte[] digest = new byte[s.hash().length()];

    byte[] a = SIGNER.sign(rsa, s, digest);
    byte[] b = SIGNER.sign(rsa, s, digest);

    assertThat(a).hasSize(256).isNotEqualTo(b);
    assertThat(Signer.verify(rsa.description(), s, digest, a)).isTrue();
    assertThat(Signer.verify(rsa.description(), s, digest, b)).isTrue();
  }

  @Test
  void verify_otherDigest_isFalse() throws GeneralSecurityException {
    for (SignatureScheme s : SignatureScheme.values()) {
      byte[] digest = new byte[s.hash().length()];
      byte[] sig = SIGNER.sign(keyFor(s), s, digest);
      byte[] other = digest.clone();
      other[0] = 1;
      assertThat(Signer.verify(keyFor(s).description(), s, other, sig)).as(s.ianaName()).isFalse();
    }
  }

  /** A key whose "HSM" corrupts its results, as a CRT fault would. */
  private static RawRsaKey faulty(SoftwareKey inner, UnaryOperator<byte[]> fault) {
    return new RawRsaKey() {
      @Override
      public KeyDescription description() {
        return inner.description();
      }

      @Override
      public byte[] signDigest(SignatureScheme scheme, byte[] digest)
          throws GeneralSecurityException {
        return fault.apply(inner.signDigest(scheme, digest));
      }

      @Override
      public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
        return fault.apply(inner.rawRsa(input));
      }

      @Override
      public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
        return inner.pkcs1Decrypt(ciphertext);
      }
    };
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void sign_faultySignature_throwsSignatureFault(SignatureScheme s) {
    HsmKey key =
        faulty(
            keyFor(s),
            sig -> {
              byte[] c = sig.clone();
              c[c.length - 3] ^= 0x10;
              return c;
            });

    assertThatThrownBy(() -> SIGNER.sign(key, s, new byte[s.hash().length()]))
        .isInstanceOf(Signer.SignatureFaultException.class)
        .hasMessageContaining("does not verify")
        .hasMessageContaining(s.ianaName());
  }

  @Test
  void sign_pssWhenRawRsaFails_propagatesTheHsmException() {
    RawRsaKey failing =
        new RawRsaKey() {
          @Override
          public KeyDescription description() {
            return rsa.description();
          }

          @Override
          public byte[] signDigest(SignatureScheme scheme, byte[] digest) {
            throw new AssertionError("PSS must use raw RSA");
          }

          @Override
          public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
            throw new GeneralSecurityException("CKR_FUNCTION_FAILED");
          }

          @Override
          public byte[] pkcs1Decrypt(byte[] ciphertext) {
            throw new AssertionError();
          }
        };

    assertThatThrownBy(
            () -> SIGNER.sign(failing, SignatureScheme.RSA_PSS_RSAE_SHA256, new byte[32]))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessage("CKR_FUNCTION_FAILED");
  }

  @Test
  void sign_pssWhenRawRsaThrowsProviderException_propagatesIt() {
    RawRsaKey failing =
        faulty(
            rsa,
            b -> {
              throw new ProviderException("CKR_DEVICE_ERROR");
            });

    assertThatThrownBy(
            () -> SIGNER.sign(failing, SignatureScheme.RSA_PSS_RSAE_SHA512, new byte[64]))
        .isInstanceOf(ProviderException.class)
        .hasMessageContaining("CKR_DEVICE_ERROR");
  }

  @Test
  void describe_rsa1024_servesNoSchemeItCannotCarry() throws GeneralSecurityException {
    SoftwareKey small = SoftwareKey.rsa("soft-1024", 1024);

    assertThat(small.description().schemes())
        .doesNotContain(SignatureScheme.RSA_PSS_RSAE_SHA512)
        .contains(SignatureScheme.RSA_PSS_RSAE_SHA256, SignatureScheme.RSA_PKCS1_SHA512);
    assertThat(Arrays.asList(SignatureScheme.values()))
        .filteredOn(s -> s.curve() != null)
        .noneMatch(small.description().schemes()::contains);
  }

  @Test
  void sign_rsaVerifyMode_returnsEcdsaUncheckedButStillChecksRsa() throws Exception {
    Signer rsaOnly = new Signer(VerifyMode.RSA);
    UnaryOperator<byte[]> corrupt =
        sig -> {
          byte[] c = sig.clone();
          c[c.length - 3] ^= 0x10;
          return c;
        };
    SignatureScheme ecdsa = SignatureScheme.ECDSA_SECP256R1_SHA256;
    byte[] digest = new byte[32];

    byte[] unchecked = rsaOnly.sign(faulty(ec.get("secp256r1"), corrupt), ecdsa, digest);

    assertThat(Signer.verify(ec.get("secp256r1").description(), ecdsa, digest, unchecked))
        .isFalse();
    assertThatThrownBy(
            () -> rsaOnly.sign(faulty(rsa, corrupt), SignatureScheme.RSA_PKCS1_SHA256, digest))
        .isInstanceOf(Signer.SignatureFaultException.class);
  }

  @Test
  void verify_ecdsaWithoutANamedCurve_isDecidedByTheJdk() throws Exception {
    KeyDescription d = ec.get("secp256r1").description();
    KeyDescription noCurve =
        new KeyDescription(
            d.name(),
            d.publicKey(),
            d.chain(),
            d.spkiSha256(),
            d.type(),
            d.bits(),
            null,
            d.schemes());
    SignatureScheme s = SignatureScheme.ECDSA_SECP256R1_SHA256;
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(new byte[] {1, 2, 3});
    byte[] sig = ec.get("secp256r1").signDigest(s, digest);
    byte[] other = digest.clone();
    other[0] ^= 1;

    assertThat(Signer.verify(noCurve, s, digest, sig)).isTrue();
    assertThat(Signer.verify(noCurve, s, other, sig)).isFalse();
    assertThat(Signer.verify(noCurve, s, digest, new byte[] {0x30, 0x01, 0x00})).isFalse();
  }

  @Test
  void verify_pssSignatureLongerThanTheModulus_isFalse() throws Exception {
    byte[] tooLong = new byte[257];
    Arrays.fill(tooLong, (byte) 0xff);
    byte[] notBelowTheModulus = new byte[256];
    Arrays.fill(notBelowTheModulus, (byte) 0xff);
    SignatureScheme pss = SignatureScheme.RSA_PSS_RSAE_SHA256;

    assertThat(Signer.verify(rsa.description(), pss, new byte[32], tooLong)).isFalse();
    assertThat(Signer.verify(rsa.description(), pss, new byte[32], notBelowTheModulus)).isFalse();
  }

  @Test
  void pkcs1Sign_isTheJdksNoneWithRsaSignature_upToElevenBytesLessThanTheModulus()
      throws Exception {
    byte[] data = new byte[256 - 11];
    Arrays.fill(data, (byte) 0x5a);
    Signature jdk = Signature.getInstance("NONEwithRSA");
    jdk.initSign(rsa.keyPair().getPrivate());
    jdk.update(data);

    assertThat(rsa.allowsRawRsa()).isTrue();
    assertThat(rsa.pkcs1Sign(data)).isEqualTo(jdk.sign());
    assertThatThrownBy(() -> rsa.pkcs1Sign(new byte[256 - 10]))
        .isInstanceOf(java.security.SignatureException.class)
        .hasMessage("data too long for a PKCS#1 signature");
  }
}
