package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.math.ec.ECCurve;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.util.BigIntegers;
import org.junit.jupiter.api.Test;

/**
 * The P-256 fixed-base verify gives the textbook answer: against the JDK's signatures and Bouncy
 * Castle's verify on many keys and corruptions, on its own table and digit arithmetic, and on the
 * two rare paths (an addition of equal points, which falls back; x(R) ≥ n).
 */
class SoftwareVerifierP256Test {
  private static final X9ECParameters X9 = CustomNamedCurves.getByName("secp256r1");
  private static final BigInteger N = X9.getN();
  private static final ECCurve CURVE = X9.getCurve();

  @Test
  void verify_agreesWithBouncyCastleOnJdkSignaturesAndTheirCorruptions() throws Exception {
    SplittableRandom random = new SplittableRandom(256);
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"));
    int valid = 0;
    int invalid = 0;
    for (int key = 0; key < 4; key++) {
      KeyPair pair = gen.generateKeyPair();
      ECPublicKey pub = (ECPublicKey) pair.getPublic();
      ECPoint q = point(pub);
      int[] table = SoftwareVerifierP256.table(q);
      Signature signer = Signature.getInstance("NONEwithECDSA");
      signer.initSign(pair.getPrivate());
      for (int i = 0; i < 60; i++) {
        byte[] digest = new byte[i % 3 == 0 ? 48 : 32]; // 48: longer than the order, truncated
        random.nextBytes(digest);
        signer.update(digest);
        BigInteger[] rs = rs(signer.sign());
        assertThat(SoftwareVerifierP256.verify(table, digest, rs[0], rs[1])).isTrue();
        assertThat(bouncyCastle(q, digest, rs[0], rs[1])).isTrue();
        valid++;

        byte[] flipped = digest.clone();
        flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
        BigInteger[][] corrupt = {
          {rs[0].add(BigInteger.ONE).mod(N), rs[1]},
          {rs[0], rs[1].add(BigInteger.ONE).mod(N)},
          {rs[1], rs[0]},
        };
        for (BigInteger[] c : corrupt) {
          if (c[0].signum() == 0 || c[1].signum() == 0) {
            continue;
          }
          assertThat(SoftwareVerifierP256.verify(table, digest, c[0], c[1]))
              .isEqualTo(bouncyCastle(q, digest, c[0], c[1]));
          invalid++;
        }
        if (!sameTruncation(
            digest, flipped)) { // a flip past the order's bit length changes nothing
          assertThat(SoftwareVerifierP256.verify(table, flipped, rs[0], rs[1])).isFalse();
        }
      }
      // Another key's table does not verify this key's signatures.
      int[] other =
          SoftwareVerifierP256.table(point((ECPublicKey) gen.generateKeyPair().getPublic()));
      byte[] digest = new byte[32];
      signer.update(digest);
      BigInteger[] rs = rs(signer.sign());
      assertThat(SoftwareVerifierP256.verify(other, digest, rs[0], rs[1])).isFalse();
    }
    assertThat(valid).isEqualTo(240);
    assertThat(invalid).isGreaterThan(700);
  }

  /** SoftwareVerifier sends every P-256 verify here, whatever its answer; the fallback is rare. */
  @Test
  void verifyEcdsa_p256_isAnsweredByTheFixedBasePath() throws Exception {
    KeyPair pair = p256Pair();
    ECPublicKey pub = (ECPublicKey) pair.getPublic();
    byte[] digest = new byte[32];
    Arrays.fill(digest, (byte) 3);
    BigInteger[] rs = jdkSign(pair, digest);
    byte[] other = digest.clone();
    other[0] ^= 1;

    long before = SoftwareVerifierP256.ANSWERED.sum();
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(rs[0], rs[1]))).isTrue();
    assertThat(SoftwareVerifierP256.ANSWERED.sum()).isEqualTo(before + 1);
    assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", other, der(rs[0], rs[1]))).isFalse();
    assertThat(SoftwareVerifierP256.ANSWERED.sum()).isEqualTo(before + 2);
    // Out of [1, n-1]: answered false here, before any arithmetic.
    BigInteger[][] outOfRange = {
      {BigInteger.ZERO, rs[1]}, {N, rs[1]}, {rs[0].negate(), rs[1]},
      {rs[0], BigInteger.ZERO}, {rs[0], N}, {rs[0], N.add(rs[1])}
    };
    for (BigInteger[] c : outOfRange) {
      assertThat(SoftwareVerifier.verifyEcdsa(pub, "secp256r1", digest, der(c[0], c[1]))).isFalse();
    }
    assertThat(SoftwareVerifierP256.ANSWERED.sum()).isEqualTo(before + 2 + outOfRange.length);
    int[] table = SoftwareVerifierP256.table(point(pub));
    assertThat(SoftwareVerifierP256.verify(table, digest, N, rs[1])).isFalse();
    assertThat(SoftwareVerifierP256.verify(table, digest, rs[0], N)).isFalse();
    assertThat(SoftwareVerifierP256.verify(table, digest, rs[0], N.subtract(BigInteger.ONE)))
        .isFalse();
  }

  @Test
  void verify_negatedS_isValidAsInTheTextbook() throws Exception {
    // (r, n - s) is a valid signature too (R and -R share x): the check must say what ECDSA says.
    KeyPair pair = p256Pair();
    byte[] digest = new byte[32];
    Arrays.fill(digest, (byte) 7);
    BigInteger[] rs = jdkSign(pair, digest);
    ECPoint q = point((ECPublicKey) pair.getPublic());

    assertThat(
            SoftwareVerifierP256.verify(
                SoftwareVerifierP256.table(q), digest, rs[0], N.subtract(rs[1])))
        .isTrue();
  }

  @Test
  void table_entryIJ_isJTimesTwoToTheSevenITimesThePoint() {
    ECPoint g = X9.getG();
    int[] table = SoftwareVerifierP256.table(g);
    assertThat(table).hasSize(SoftwareVerifierP256.WINDOWS * SoftwareVerifierP256.ENTRIES * 16);
    int[][] samples = {{0, 1}, {0, 2}, {0, 64}, {1, 1}, {5, 33}, {36, 1}, {36, 64}, {20, 63}};
    for (int[] ij : samples) {
      BigInteger k = BigInteger.valueOf(ij[1]).shiftLeft(7 * ij[0]);
      ECPoint expected = g.multiply(k).normalize();
      int at = (ij[0] * SoftwareVerifierP256.ENTRIES + ij[1] - 1) * 16;
      assertThat(toBigInteger(table, at)).isEqualTo(expected.getAffineXCoord().toBigInteger());
      assertThat(toBigInteger(table, at + 8)).isEqualTo(expected.getAffineYCoord().toBigInteger());
    }
  }

  @Test
  void digits_areSigned7BitAndSumToTheScalar() {
    SplittableRandom random = new SplittableRandom(7);
    BigInteger[] scalars = new BigInteger[203];
    scalars[0] = BigInteger.ZERO;
    scalars[1] = N.subtract(BigInteger.ONE);
    scalars[2] = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);
    for (int i = 3; i < scalars.length; i++) {
      byte[] b = new byte[32];
      random.nextBytes(b);
      if (i % 4 == 0) {
        Arrays.fill(b, 0, 16, (byte) 0xff); // long runs of ones: carries through many windows
      }
      scalars[i] = new BigInteger(1, b);
    }
    for (BigInteger k : scalars) {
      int[] d = SoftwareVerifierP256.digits(k);
      assertThat(d).hasSize(37);
      BigInteger sum = BigInteger.ZERO;
      for (int i = 0; i < d.length; i++) {
        assertThat(d[i]).isBetween(-63, 64);
        sum = sum.add(BigInteger.valueOf(d[i]).shiftLeft(7 * i));
      }
      assertThat(sum).as("digits of %s", k.toString(16)).isEqualTo(k);
    }
    assertThat(SoftwareVerifierP256.digits(BigInteger.valueOf(64))[0]).isEqualTo(64);
    assertThat(SoftwareVerifierP256.digits(BigInteger.valueOf(65))).startsWith(-63, 1);
    assertThat(SoftwareVerifierP256.digits(BigInteger.valueOf(127))).startsWith(-1, 1);
    assertThat(SoftwareVerifierP256.digits(BigInteger.valueOf(128))).startsWith(0, 1);
  }

  @Test
  void e_truncatesADigestLongerThanTheOrderToItsLeftmostBits() {
    byte[] d48 = new byte[48];
    d48[0] = (byte) 0x80;
    d48[47] = 1;
    assertThat(SoftwareVerifierP256.e(d48)).isEqualTo(BigInteger.ONE.shiftLeft(255));
    byte[] d32 = new byte[32];
    d32[31] = 5;
    assertThat(SoftwareVerifierP256.e(d32)).isEqualTo(BigInteger.valueOf(5));
    byte[] d20 = new byte[20];
    d20[0] = 1;
    assertThat(SoftwareVerifierP256.e(d20)).isEqualTo(BigInteger.ONE.shiftLeft(152));
  }

  /**
   * Key Q = G, u1 = u2 = 5: the key half's first addition adds 5G to the generator half's 5G. The
   * fast path declines, and the verifier's answer is Bouncy Castle's, both for a signature that is
   * valid (r = x(10G) mod n) and one that is not.
   */
  @Test
  void verify_equalPointsInAnAddition_fallsBackToTheTextbookAnswer() throws Exception {
    ECPublicKey g = publicKey(X9.getG());
    BigInteger five = BigInteger.valueOf(5);
    BigInteger validR =
        X9.getG().multiply(BigInteger.TEN).normalize().getAffineXCoord().toBigInteger().mod(N);
    for (BigInteger r : new BigInteger[] {validR, BigInteger.valueOf(7)}) {
      BigInteger s = r.multiply(five.modInverse(N)).mod(N); // w = 5/r, so u2 = r·w = 5
      byte[] digest = BigIntegers.asUnsignedByteArray(32, r); // e = r, so u1 = 5
      boolean expected = r.equals(validR);

      assertThat(SoftwareVerifierP256.verify(SoftwareVerifierP256.table(X9.getG()), digest, r, s))
          .isNull();
      assertThat(bouncyCastle(X9.getG(), digest, r, s)).isEqualTo(expected);
      long answered = SoftwareVerifierP256.ANSWERED.sum();
      assertThat(SoftwareVerifier.verifyEcdsa(g, "secp256r1", digest, der(r, s)))
          .isEqualTo(expected);
      assertThat(SoftwareVerifierP256.ANSWERED.sum()).as("fell back").isEqualTo(answered);
    }
  }

  /**
   * x(R) ≥ n, so r = x(R) − n: a key Q = R with x(R) in [n, p), digest 0 and s = r give u1 = 0, u2
   * = 1, so R = Q. Valid only through the r + n comparison.
   */
  @Test
  void verify_xOfRAboveTheOrder_matchesThroughRPlusN() throws Exception {
    BigInteger x = N;
    ECPoint point = null;
    while (point == null) {
      try {
        point = CURVE.decodePoint(encodeCompressed(x));
      } catch (IllegalArgumentException notOnCurve) {
        x = x.add(BigInteger.ONE);
      }
    }
    BigInteger r = x.subtract(N);
    byte[] digest = new byte[32];

    assertThat(SoftwareVerifierP256.verify(SoftwareVerifierP256.table(point), digest, r, r))
        .isTrue();
    assertThat(bouncyCastle(point, digest, r, r)).isTrue();
    assertThat(SoftwareVerifier.verifyEcdsa(publicKey(point), "secp256r1", digest, der(r, r)))
        .isTrue();
    BigInteger other = r.add(BigInteger.ONE);
    assertThat(SoftwareVerifierP256.verify(SoftwareVerifierP256.table(point), digest, other, other))
        .isFalse();
  }

  private static byte[] encodeCompressed(BigInteger x) {
    byte[] out = new byte[33];
    out[0] = 0x02;
    System.arraycopy(BigIntegers.asUnsignedByteArray(32, x), 0, out, 1, 32);
    return out;
  }

  private static boolean sameTruncation(byte[] a, byte[] b) {
    return SoftwareVerifierP256.e(a).equals(SoftwareVerifierP256.e(b));
  }

  private static boolean bouncyCastle(ECPoint q, byte[] digest, BigInteger r, BigInteger s) {
    ECDomainParameters domain = new ECDomainParameters(CURVE, X9.getG(), N, X9.getH());
    ECDSASigner v = new ECDSASigner();
    v.init(false, new ECPublicKeyParameters(q, domain));
    return v.verifySignature(digest, r, s);
  }

  private static ECPoint point(ECPublicKey pub) {
    return CURVE.validatePoint(pub.getW().getAffineX(), pub.getW().getAffineY()).normalize();
  }

  private static ECPublicKey publicKey(ECPoint p) throws GeneralSecurityException {
    AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
    params.init(new ECGenParameterSpec("secp256r1"));
    ECPoint n = p.normalize();
    return (ECPublicKey)
        KeyFactory.getInstance("EC")
            .generatePublic(
                new ECPublicKeySpec(
                    new java.security.spec.ECPoint(
                        n.getAffineXCoord().toBigInteger(), n.getAffineYCoord().toBigInteger()),
                    params.getParameterSpec(ECParameterSpec.class)));
  }

  private static KeyPair p256Pair() throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"));
    return gen.generateKeyPair();
  }

  /** The JDK's (r, s) over {@code digest}, an implementation independent of both verifiers. */
  private static BigInteger[] jdkSign(KeyPair pair, byte[] digest) throws Exception {
    Signature signer = Signature.getInstance("NONEwithECDSA");
    signer.initSign(pair.getPrivate());
    signer.update(digest);
    return rs(signer.sign());
  }

  private static BigInteger[] rs(byte[] der) throws java.io.IOException {
    ASN1Sequence seq = ASN1Sequence.getInstance(der);
    return new BigInteger[] {
      ASN1Integer.getInstance(seq.getObjectAt(0)).getValue(),
      ASN1Integer.getInstance(seq.getObjectAt(1)).getValue()
    };
  }

  private static byte[] der(BigInteger r, BigInteger s) throws java.io.IOException {
    return new DERSequence(new ASN1Integer[] {new ASN1Integer(r), new ASN1Integer(s)}).getEncoded();
  }

  private static BigInteger toBigInteger(int[] table, int at) {
    BigInteger v = BigInteger.ZERO;
    for (int i = 7; i >= 0; i--) {
      v = v.shiftLeft(32).or(BigInteger.valueOf(table[at + i] & 0xffffffffL));
    }
    return v;
  }
}
