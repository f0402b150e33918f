package dev.keyhold.client.netty;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The one mapping between Netty/BoringSSL {@code SSL_SIGN_*} constants and Keyhold's {@link
 * SignatureScheme} table, keyed on the enum (DESIGN §3). The constants are read from netty-tcnative
 * at class initialisation, which is why this is a map and not a {@code switch}: they are not
 * compile-time constants.
 *
 * <p>TLS 1.2 detail: an {@code SSL_SIGN_ECDSA_*} constant names a hash only; its curve part is a
 * TLS 1.3 notion. {@link #schemeFor} therefore picks the ECDSA scheme of the key's own curve, and
 * {@link #ecdsaDigestFor} fits the digest to that scheme's length without changing the number ECDSA
 * signs (see there).
 *
 * <p>Security note: legacy algorithms (MD5+SHA1, SHA-1) and schemes Keyhold does not serve
 * (Ed25519) are refused with a clear {@link NoSuchAlgorithmException}; nothing is downgraded.
 */
public final class NettySignatureSchemes {
  private static final Map<SignatureScheme, Integer> TO_NETTY;
  private static final Map<Integer, SignatureScheme> FROM_NETTY;
  private static final Map<Integer, String> REFUSED;

  static {
    // The SSL_SIGN_* fields are read from netty-tcnative's native library: touching them before
    // the library is loaded fails with UnsatisfiedLinkError, so load it first (throws if absent).
    OpenSsl.ensureAvailability();
    EnumMap<SignatureScheme, Integer> m = new EnumMap<>(SignatureScheme.class);
    m.put(SignatureScheme.RSA_PKCS1_SHA256, OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA256);
    m.put(SignatureScheme.RSA_PKCS1_SHA384, OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA384);
    m.put(SignatureScheme.RSA_PKCS1_SHA512, OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA512);
    m.put(
        SignatureScheme.RSA_PSS_RSAE_SHA256,
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA256);
    m.put(
        SignatureScheme.RSA_PSS_RSAE_SHA384,
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA384);
    m.put(
        SignatureScheme.RSA_PSS_RSAE_SHA512,
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA512);
    m.put(
        SignatureScheme.ECDSA_SECP256R1_SHA256,
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP256R1_SHA256);
    m.put(
        SignatureScheme.ECDSA_SECP384R1_SHA384,
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP384R1_SHA384);
    m.put(
        SignatureScheme.ECDSA_SECP521R1_SHA512,
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP521R1_SHA512);
    TO_NETTY = Collections.unmodifiableMap(m);
    Map<Integer, SignatureScheme> back = new HashMap<>();
    m.forEach((scheme, sslSign) -> back.put(sslSign, scheme));
    FROM_NETTY = Collections.unmodifiableMap(back);
    Map<Integer, String> refused = new HashMap<>();
    refused.put(
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_MD5_SHA1,
        "rsa_pkcs1_md5_sha1 (legacy MD5+SHA1, TLS 1.0/1.1)");
    refused.put(
        OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA1, "rsa_pkcs1_sha1 (legacy SHA-1)");
    refused.put(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SHA1, "ecdsa_sha1 (legacy SHA-1)");
    refused.put(OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ED25519, "ed25519 (not served by Keyhold)");
    REFUSED = Collections.unmodifiableMap(refused);
  }

  private NettySignatureSchemes() {}

  /** The Netty {@code SSL_SIGN_*} value of a scheme; every scheme of the table has one. */
  public static int sslSign(SignatureScheme scheme) {
    return TO_NETTY.get(scheme);
  }

  /**
   * The scheme a Netty {@code SSL_SIGN_*} value names literally (curve included); empty if none.
   */
  public static Optional<SignatureScheme> fromSslSign(int sslSign) {
    return Optional.ofNullable(FROM_NETTY.get(sslSign));
  }

  /** Whether BoringSSL may ask for this algorithm but Keyhold refuses it on purpose. */
  public static boolean isRefused(int sslSign) {
    return REFUSED.containsKey(sslSign);
  }

  /**
   * The scheme to ask Keyhold for, for a BoringSSL request {@code sslSign} with a key of this type
   * and curve. For ECDSA the hash comes from {@code sslSign} and the curve from the key (TLS 1.2
   * allows any curve with any ECDSA hash); the caller then fits the digest with {@link
   * #ecdsaDigestFor}.
   *
   * @throws NoSuchAlgorithmException for legacy or unknown algorithms
   * @throws InvalidKeyException when the algorithm does not suit the key type
   */
  public static SignatureScheme schemeFor(int sslSign, KeyType keyType, String keyCurve)
      throws NoSuchAlgorithmException, InvalidKeyException {
    String refused = REFUSED.get(sslSign);
    if (refused != null) {
      throw new NoSuchAlgorithmException(
          "Keyhold refuses signature algorithm " + refused + "; offer SHA-256 or stronger");
    }
    SignatureScheme named = FROM_NETTY.get(sslSign);
    if (named == null) {
      throw new NoSuchAlgorithmException(
          "unknown BoringSSL signature algorithm 0x" + Integer.toHexString(sslSign));
    }
    if (named.keyType() != keyType) {
      throw new InvalidKeyException(
          "signature algorithm " + named.ianaName() + " does not suit a " + keyType + " key");
    }
    if (named.padding() != SignatureScheme.Padding.ECDSA || named.curve().equals(keyCurve)) {
      return named;
    }
    for (SignatureScheme s : SignatureScheme.values()) {
      if (s.padding() == SignatureScheme.Padding.ECDSA && s.curve().equals(keyCurve)) {
        return s;
      }
    }
    throw new InvalidKeyException("Keyhold serves no ECDSA scheme for curve '" + keyCurve + "'");
  }

  /**
   * The hash that BoringSSL's request names; for ECDSA it may differ from {@code scheme.hash()}
   * when {@link #schemeFor} substituted the key's curve.
   */
  public static SignatureScheme.Hash requestedHash(int sslSign) throws NoSuchAlgorithmException {
    SignatureScheme named = FROM_NETTY.get(sslSign);
    if (named == null) {
      throw new NoSuchAlgorithmException(
          "unknown BoringSSL signature algorithm 0x" + Integer.toHexString(sslSign));
    }
    return named.hash();
  }

  /**
   * Fits an ECDSA digest made with one hash to the digest length of the key's scheme, without
   * changing the integer ECDSA signs. ECDSA uses the leftmost min(n, 8·len) bits of the digest (n =
   * bit length of the group order; SEC 1 §4.1.3 step 5). For P-256 and P-384 the scheme's length is
   * exactly n/8 bytes, and for P-521 it is 64 bytes, below n: so a shorter digest is left-padded
   * with zeros (same integer, nothing truncated on either side), and a longer one is cut to its
   * leftmost bytes (exactly what a verifier truncates it to).
   */
  public static byte[] ecdsaDigestFor(SignatureScheme scheme, byte[] digest) {
    int target = scheme.hash().length();
    if (digest.length == target) {
      return digest;
    }
    byte[] out = new byte[target];
    if (digest.length < target) {
      System.arraycopy(digest, 0, out, target - digest.length, digest.length);
    } else {
      System.arraycopy(digest, 0, out, 0, target);
    }
    return out;
  }
}
