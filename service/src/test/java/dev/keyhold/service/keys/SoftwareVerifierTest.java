package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.testing.SoftwareKey;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The software fault check: signatures made by the JDK (an independent implementation) verify for
 * every scheme, a published ECDSA test vector verifies, and every kind of corruption is rejected.
 */
class SoftwareVerifierTest {
  private static SoftwareKey rsa;
  private static SoftwareKey otherRsa;
  private static Map<String, SoftwareKey> ec;
  private static Map<String, SoftwareKey> otherEc;

  @BeforeAll
  static void keys() throws GeneralSecurityException {
    rsa = SoftwareKey.rsa("v-rsa", 2048);
    otherRsa = SoftwareKey.rsa("v-rsa-other", 2048);
    ec =
        Map.of(
            "secp256r1", SoftwareKey.ec("v-p256", "secp256r1"),
            "secp384r1", SoftwareKey.ec("v-p384", "secp384r1"),
            "secp521r1", SoftwareKey.ec("v-p521", "secp521r1"));
    otherEc =
        Map.of(
            "secp256r1", SoftwareKey.ec("o-p256", "secp256r1"),
            "secp384r1", SoftwareKey.ec("o-p384", "secp384r1"),
            "secp521r1", SoftwareKey.ec("o-p521", "secp521r1"));
  }

  private static SoftwareKey keyFor(SignatureScheme s) {
    return s.curve() == null ? rsa : ec.get(s.curve());
  }

  private static SoftwareKey otherKeyFor(SignatureScheme s) {
    return s.curve() == null ? otherRsa : otherEc.get(s.curve());
  }

  /** The JDK's signature over the message, whose digest the verifier is given. */
  private static byte[] jdkSign(SignatureScheme s, KeyPair pair, byte[] message)
      throws GeneralSecurityException {
    Signature signer = Signature.getInstance(s.jcaSignatureName());
    if (s.pssParameters() != null) {
      signer.setParameter(s.pssParameters());
    }
    signer.initSign(pair.getPrivate());
    signer.update(message);
    return signer.sign();
  }

  private static byte[] message(SignatureScheme s) {
    return ("verifier test " + s.ianaName()).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] digest(SignatureScheme s, byte[] message) throws GeneralSecurityException {
    return MessageDigest.getInstance(s.hash().jcaName()).digest(message);
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void verify_jdkSignature_isTrue(SignatureScheme s) throws GeneralSecurityException {
    byte[] m = message(s);
    byte[] sig = jdkSign(s, keyFor(s).keyPair(), m);

    assertThat(Signer.verify(keyFor(s).description(), s, digest(s, m), sig)).isTrue();
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void verify_anyFlippedBit_isFalse(SignatureScheme s) throws GeneralSecurityException {
    byte[] m = message(s);
    byte[] d = digest(s, m);
    byte[] sig = jdkSign(s, keyFor(s).keyPair(), m);
    // Positions across the value: first byte (DER tag or RSA top byte), middle, last.
    for (int pos : new int[] {0, 1, sig.length / 2, sig.length - 1}) {
      for (int bit = 0; bit < 8; bit += 3) {
        byte[] bad = sig.clone();
        bad[pos] ^= (byte) (1 << bit);
        assertThat(Signer.verify(keyFor(s).description(), s, d, bad))
            .as("%s byte %d bit %d", s.ianaName(), pos, bit)
            .isFalse();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void verify_otherKeysSignatureOrOtherDigest_isFalse(SignatureScheme s)
      throws GeneralSecurityException {
    byte[] m = message(s);
    byte[] d = digest(s, m);
    byte[] byOther = jdkSign(s, otherKeyFor(s).keyPair(), m);
    byte[] sig = jdkSign(s, keyFor(s).keyPair(), m);
    byte[] otherDigest = d.clone();
    otherDigest[d.length - 1] ^= 1;

    assertThat(Signer.verify(keyFor(s).description(), s, d, byOther)).isFalse();
    assertThat(Signer.verify(keyFor(s).description(), s, otherDigest, sig)).isFalse();
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void verify_truncatedOrExtendedSignature_isFalse(SignatureScheme s)
      throws GeneralSecurityException {
    byte[] m = message(s);
    byte[] d = digest(s, m);
    byte[] sig = jdkSign(s, keyFor(s).keyPair(), m);

    assertThat(Signer.verify(keyFor(s).description(), s, d, Arrays.copyOf(sig, sig.length - 1)))
        .isFalse();
    assertThat(Signer.verify(keyFor(s).description(), s, d, Arrays.copyOf(sig, sig.length + 1)))
        .isFalse();
    assertThat(Signer.verify(keyFor(s).description(), s, d, new byte[0])).isFalse();
  }

  @Test
  void verifyPkcs1_signatureNotBelowTheModulus_isFalse() throws GeneralSecurityException {
    SignatureScheme s = SignatureScheme.RSA_PKCS1_SHA256;
    RSAPublicKey pub = (RSAPublicKey) rsa.description().publicKey();
    byte[] m = message(s);
    byte[] d = digest(s, m);
    byte[] sig = jdkSign(s, rsa.keyPair(), m);
    // sig + n has the same residue: a verifier that skipped the range check would accept it if
    // it fitted; n itself and all-ones are out of range too.
    byte[] n = toBytes(pub.getModulus(), sig.length);
    byte[] ones = new byte[sig.length];
    Arrays.fill(ones, (byte) 0xff);

    assertThat(SoftwareVerifier.verifyPkcs1(pub, s, d, sig)).isTrue();
    assertThat(SoftwareVerifier.verifyPkcs1(pub, s, d, n)).isFalse();
    assertThat(SoftwareVerifier.verifyPkcs1(pub, s, d, ones)).isFalse();
  }

  @Test
  void verifyPkcs1_otherHashsDigestInfo_isFalse() throws GeneralSecurityException {
    // A SHA-384 signature is not a SHA-256 one, even over a digest of the right length's prefix.
    byte[] m = message(SignatureScheme.RSA_PKCS1_SHA384);
    byte[] sig = jdkSign(SignatureScheme.RSA_PKCS1_SHA384, rsa.keyPair(), m);
    byte[] d384 = digest(SignatureScheme.RSA_PKCS1_SHA384, m);
    RSAPublicKey pub = (RSAPublicKey) rsa.description().publicKey();

    assertThat(SoftwareVerifier.verifyPkcs1(pub, SignatureScheme.RSA_PKCS1_SHA384, d384, sig))
        .isTrue();
    assertThat(
            SoftwareVerifier.verifyPkcs1(
                pub, SignatureScheme.RSA_PKCS1_SHA256, Arrays.copyOf(d384, 32), sig))
        .isFalse();
  }

  @Test
  void pkcs1Encoding_isTheRfc8017Layout() {
    byte[] digestInfo = SignatureScheme.Hash.SHA256.digestInfo(new byte[32]);
    byte[] em = SoftwareVerifier.pkcs1Encoding(digestInfo, 256);

    assertThat(em).hasSize(256);
    assertThat(em[0]).isZero();
    assertThat(em[1]).isEqualTo((byte) 1);
    for (int i = 2; i < 256 - digestInfo.length - 1; i++) {
      assertThat(em[i]).as("padding byte %d", i).isEqualTo((byte) 0xff);
    }
    assertThat(em[256 - digestInfo.length - 1]).isZero();
    assertThat(Arrays.copyOfRange(em, 256 - digestInfo.length, 256)).isEqualTo(digestInfo);
    // Fewer than 8 padding bytes is no encoding.
    assertThat(SoftwareVerifier.pkcs1Encoding(digestInfo, digestInfo.length + 10)).isNull();
  }

  /** RFC 6979 appendix A.2.5: P-256, SHA-256, message "sample". */
  @Test
  void verifyEcdsa_rfc6979KnownAnswer_isTrueAndCorruptionsFalse() throws Exception {
    HexFormat hex = HexFormat.of();
    AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
    p.init(new ECGenParameterSpec("secp256r1"));
    ECPublicKey pub =
        (ECPublicKey)
            KeyFactory.getInstance("EC")
                .generatePublic(
                    new ECPublicKeySpec(
                        new ECPoint(
                            new BigInteger(
                                "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
                                16),
                            new BigInteger(
                                "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
                                16)),
                        p.getParameterSpec(ECParameterSpec.class)));
    BigInteger r =
        new BigInteger("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716", 16);
    BigInteger s =
        new BigInteger("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8", 16);
    byte[] digest =
        MessageDigest.getInstance("SHA-256").digest("sample".getBytes(StandardCharsets.US_ASCII));
    BigInteger n = pub.getParams().getOrder();

    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(r, s))).isTrue();
    // The JDK agrees, so the vector is copied right.
    Signature jdk = Signature.getInstance("NONEwithECDSA");
    jdk.initVerify(pub);
    jdk.update(digest);
    assertThat(jdk.verify(der(r, s))).isTrue();

    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(s, r))).isFalse();
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(BigInteger.ZERO, s)))
        .isFalse();
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(r, BigInteger.ZERO)))
        .isFalse();
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(r.add(n), s)))
        .as("r + n has the same residue but is out of range")
        .isFalse();
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(r, s.negate())))
        .isFalse();
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, hex.parseHex("3000")))
        .isFalse();
    // BER (non-minimal length) encodings of the same values are not the signature's one encoding.
    byte[] good = der(r, s);
    byte[] longForm = new byte[good.length + 1];
    longForm[0] = 0x30;
    longForm[1] = (byte) 0x81;
    System.arraycopy(good, 1, longForm, 2, good.length - 1);
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, longForm)).isFalse();
  }

  @Test
  void verifyEcdsa_curveWithoutACustomImplementation_isNullSoTheJdkDecides() throws Exception {
    ECPublicKey pub = (ECPublicKey) ec.get("secp256r1").description().publicKey();

    assertThat(SoftwareVerifier.verifyEcdsa(pub, null, new byte[32], new byte[8])).isNull();
  }

  private static byte[] der(BigInteger r, BigInteger s) throws java.io.IOException {
    return new DERSequence(new ASN1Integer[] {new ASN1Integer(r), new ASN1Integer(s)}).getEncoded();
  }

  private static byte[] toBytes(BigInteger v, int k) {
    byte[] b = v.toByteArray();
    return b.length == k ? b : Arrays.copyOfRange(b, b.length - k, b.length);
  }

  @Test
  void pkcs1Encoding_needsAtLeastEightPaddingBytes() {
    byte[] digestInfo = new byte[19 + 32];

    assertThat(SoftwareVerifier.pkcs1Encoding(digestInfo, digestInfo.length + 3 + 8)).isNotNull();
    assertThat(SoftwareVerifier.pkcs1Encoding(digestInfo, digestInfo.length + 3 + 7)).isNull();
  }
}
