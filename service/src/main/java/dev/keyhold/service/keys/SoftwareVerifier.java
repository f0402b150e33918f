package dev.keyhold.service.keys;

import dev.keyhold.proto.SignatureScheme;
import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.math.ec.ECPoint;

/**
 * The software half of the fault check, made cheap because it runs on every signature.
 *
 * <ul>
 *   <li>PKCS#1 v1.5: one public-exponent {@link BigInteger#modPow} over the cached public key, then
 *       a constant-time compare of the recovered block with the expected EMSA-PKCS1-v1_5 encoding
 *       (RFC 8017 §8.2.2 step 2-4, "encode and compare"), instead of the JDK's {@code Signature}
 *       machinery (provider lookup, key translation, DER parse of the DigestInfo).
 *   <li>ECDSA P-256: {@link SoftwareVerifierP256}, fixed-base tables for the generator and for each
 *       key's public point (built once per key), 74 additions per verify and no doublings; its rare
 *       exceptional cases, and keys past its table bound, take the path below.
 *   <li>ECDSA: Bouncy Castle's {@link ECDSASigner} over its custom-curve implementations
 *       (SecP256R1, SecP384R1, SecP521R1) with one {@link ECPublicKeyParameters} per key, kept for
 *       the key's lifetime, so the public point's wNAF precomputation (which Bouncy Castle stores
 *       in the point and widens as the point is reused) is built once per key, and the generator's
 *       table is the curve's own. JDK 17's SunEC verify costs an order of magnitude more; the
 *       token's C_Verify costs as much as this and would ask the possibly faulty device to vouch
 *       for its own output.
 * </ul>
 */
final class SoftwareVerifier {
  private static final int MAX_CACHED_KEYS = 1024;
  private static final ConcurrentHashMap<PublicKey, ECPublicKeyParameters> EC_KEYS =
      new ConcurrentHashMap<>();
  // 151 KiB each: bounds the tables at 9.5 MiB; keys past the bound take the wNAF path.
  private static final int MAX_P256_TABLES = 64;
  private static final ConcurrentHashMap<PublicKey, int[]> P256_TABLES = new ConcurrentHashMap<>();

  private SoftwareVerifier() {}

  /** Whether {@code sig} is a valid PKCS#1 v1.5 signature over {@code digest}. */
  static boolean verifyPkcs1(RSAPublicKey pub, SignatureScheme scheme, byte[] digest, byte[] sig) {
    BigInteger n = pub.getModulus();
    int k = (n.bitLength() + 7) / 8;
    if (sig.length != k) {
      return false;
    }
    BigInteger s = new BigInteger(1, sig);
    if (s.compareTo(n) >= 0) {
      return false;
    }
    byte[] em = toFixedLength(s.modPow(pub.getPublicExponent(), n), k);
    byte[] expected = pkcs1Encoding(scheme.hash().digestInfo(digest), k);
    return expected != null && MessageDigest.isEqual(em, expected);
  }

  /** EMSA-PKCS1-v1_5: 00 01 FF..FF 00 || DigestInfo; {@code null} when it does not fit k bytes. */
  static byte[] pkcs1Encoding(byte[] digestInfo, int k) {
    int padding = k - digestInfo.length - 3;
    if (padding < 8) {
      return null;
    }
    byte[] em = new byte[k];
    em[1] = 0x01;
    Arrays.fill(em, 2, 2 + padding, (byte) 0xff);
    System.arraycopy(digestInfo, 0, em, k - digestInfo.length, digestInfo.length);
    return em;
  }

  private static byte[] toFixedLength(BigInteger v, int k) {
    byte[] b = v.toByteArray();
    if (b.length == k) {
      return b;
    }
    byte[] out = new byte[k];
    if (b.length > k) { // a leading sign byte
      System.arraycopy(b, b.length - k, out, 0, k);
    } else {
      System.arraycopy(b, 0, out, k - b.length, b.length);
    }
    return out;
  }

  /**
   * Whether {@code der} is a valid, DER-encoded ECDSA signature over {@code digest}; {@code null}
   * when Bouncy Castle has no custom implementation of the key's curve (the caller then uses the
   * JDK).
   */
  static Boolean verifyEcdsa(ECPublicKey pub, String curve, byte[] digest, byte[] der) {
    ECPublicKeyParameters params = ecParameters(pub, curve);
    if (params == null) {
      return null;
    }
    BigInteger r;
    BigInteger s;
    try {
      ASN1Sequence seq = ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(der));
      if (seq == null || seq.size() != 2 || !Arrays.equals(seq.getEncoded(ASN1Encoding.DER), der)) {
        return false; // not the one DER encoding of a signature
      }
      r = ASN1Integer.getInstance(seq.getObjectAt(0)).getValue();
      s = ASN1Integer.getInstance(seq.getObjectAt(1)).getValue();
    } catch (IOException | IllegalArgumentException | ClassCastException e) {
      return false;
    }
    int[] table = SoftwareVerifierP256.CURVE.equals(curve) ? p256Table(pub, params) : null;
    Boolean fast = table == null ? null : SoftwareVerifierP256.verify(table, digest, r, s);
    if (fast != null) {
      return fast;
    }
    ECDSASigner v = new ECDSASigner();
    v.init(false, params);
    // ECDSASigner rejects r or s outside [1, n-1] (negative ones included) and truncates the digest
    // to the order's bit length.
    return v.verifySignature(digest, r, s);
  }

  /** The key's P-256 fixed-base table; {@code null} once the table cache is full of other keys. */
  private static int[] p256Table(ECPublicKey pub, ECPublicKeyParameters params) {
    int[] cached = P256_TABLES.get(pub);
    if (cached != null || P256_TABLES.size() >= MAX_P256_TABLES) {
      return cached;
    }
    return P256_TABLES.computeIfAbsent(pub, k -> SoftwareVerifierP256.table(params.getQ()));
  }

  /**
   * Drops what the verify keeps for {@code pub} (its Bouncy Castle point and, for P-256, its 151
   * KiB table): the key is no longer served. Without this, a service that rotates keys keeps the
   * tables of retired ones, and after 64 of them new P-256 keys verify on the slower wNAF path. An
   * operation that resolved the key before it was retired and verifies after this call builds its
   * table again; the bounds still hold.
   */
  static void forget(PublicKey pub) {
    EC_KEYS.remove(pub);
    P256_TABLES.remove(pub);
  }

  /** Whether a P-256 table is kept for {@code pub} (for tests). */
  static boolean hasP256Table(PublicKey pub) {
    return P256_TABLES.containsKey(pub);
  }

  private static ECPublicKeyParameters ecParameters(ECPublicKey pub, String curve) {
    if (curve == null) {
      return null;
    }
    ECPublicKeyParameters cached = EC_KEYS.get(pub);
    if (cached != null) {
      return cached;
    }
    X9ECParameters x9 = CustomNamedCurves.getByName(curve);
    if (x9 == null) {
      return null;
    }
    ECDomainParameters domain =
        new ECDomainParameters(x9.getCurve(), x9.getG(), x9.getN(), x9.getH());
    ECPoint q =
        domain
            .getCurve()
            .validatePoint(pub.getW().getAffineX(), pub.getW().getAffineY())
            .normalize();
    ECPublicKeyParameters params = new ECPublicKeyParameters(q, domain);
    if (EC_KEYS.size() >= MAX_CACHED_KEYS) {
      EC_KEYS.clear(); // keys are few and long-lived; this only bounds a pathological reload loop
      P256_TABLES.clear();
    }
    EC_KEYS.put(pub, params);
    return params;
  }
}
