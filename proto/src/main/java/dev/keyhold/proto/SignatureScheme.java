package dev.keyhold.proto;

import dev.keyhold.proto.v1.KeyType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one table of TLS signature schemes that Keyhold serves, keyed by the TLS SignatureScheme code
 * point (RFC 8446 §4.2.3). Each row holds the hash, the key type, the padding and the JCA names;
 * side-specific mappings (the PKCS#11 mechanism in the service, Netty's {@code SSL_SIGN_*}
 * constants in client-lib) key on this enum in their own packages.
 *
 * <p>Security note: legacy schemes (MD5+SHA1, SHA-1, RSA-PSS with PSS-only keys) are deliberately
 * absent, so {@link #fromCodePoint} refuses them.
 */
public enum SignatureScheme {
  RSA_PKCS1_SHA256(0x0401, KeyType.KEY_TYPE_RSA, Hash.SHA256, Padding.PKCS1, null),
  RSA_PKCS1_SHA384(0x0501, KeyType.KEY_TYPE_RSA, Hash.SHA384, Padding.PKCS1, null),
  RSA_PKCS1_SHA512(0x0601, KeyType.KEY_TYPE_RSA, Hash.SHA512, Padding.PKCS1, null),
  RSA_PSS_RSAE_SHA256(0x0804, KeyType.KEY_TYPE_RSA, Hash.SHA256, Padding.PSS, null),
  RSA_PSS_RSAE_SHA384(0x0805, KeyType.KEY_TYPE_RSA, Hash.SHA384, Padding.PSS, null),
  RSA_PSS_RSAE_SHA512(0x0806, KeyType.KEY_TYPE_RSA, Hash.SHA512, Padding.PSS, null),
  ECDSA_SECP256R1_SHA256(0x0403, KeyType.KEY_TYPE_EC, Hash.SHA256, Padding.ECDSA, "secp256r1"),
  ECDSA_SECP384R1_SHA384(0x0503, KeyType.KEY_TYPE_EC, Hash.SHA384, Padding.ECDSA, "secp384r1"),
  ECDSA_SECP521R1_SHA512(0x0603, KeyType.KEY_TYPE_EC, Hash.SHA512, Padding.ECDSA, "secp521r1");

  /** The digest algorithms the schemes use, with their JCA names and output lengths. */
  public enum Hash {
    SHA256("SHA-256", 32, "3031300d060960864801650304020105000420"),
    SHA384("SHA-384", 48, "3041300d060960864801650304020205000430"),
    SHA512("SHA-512", 64, "3051300d060960864801650304020305000440");

    private final String jcaName;
    private final int length;

    // Never handed out: digestInfoPrefix() and digestInfo() copy it.
    @SuppressWarnings("ImmutableEnumChecker")
    private final byte[] digestInfoPrefix;

    Hash(String jcaName, int length, String digestInfoPrefixHex) {
      this.jcaName = jcaName;
      this.length = length;
      this.digestInfoPrefix = java.util.HexFormat.of().parseHex(digestInfoPrefixHex);
    }

    /** JCA MessageDigest name, e.g. "SHA-256". */
    public String jcaName() {
      return jcaName;
    }

    /** Digest length in bytes. */
    public int length() {
      return length;
    }

    /** JCA name without the dash, as used in signature names, e.g. "SHA256". */
    public String shortName() {
      return jcaName.replace("-", "");
    }

    /** The DER DigestInfo prefix (RFC 8017 §9.2 note 1) that precedes the digest in PKCS#1 v1.5. */
    public byte[] digestInfoPrefix() {
      return digestInfoPrefix.clone();
    }

    /** Returns DigestInfo(digest): the prefix followed by the digest. */
    public byte[] digestInfo(byte[] digest) {
      byte[] out = Arrays.copyOf(digestInfoPrefix, digestInfoPrefix.length + digest.length);
      System.arraycopy(digest, 0, out, digestInfoPrefix.length, digest.length);
      return out;
    }
  }

  /** How the signature is formed. */
  public enum Padding {
    PKCS1,
    PSS,
    ECDSA
  }

  private static final Map<Integer, SignatureScheme> BY_CODE = new HashMap<>();

  static {
    for (SignatureScheme s : values()) {
      BY_CODE.put(s.codePoint, s);
    }
  }

  private final int codePoint;
  private final KeyType keyType;
  private final Hash hash;
  private final Padding padding;
  private final String curve;
  private final String ianaName;

  SignatureScheme(int codePoint, KeyType keyType, Hash hash, Padding padding, String curve) {
    this.codePoint = codePoint;
    this.keyType = keyType;
    this.hash = hash;
    this.padding = padding;
    this.curve = curve;
    this.ianaName = name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Looks up a scheme by its TLS code point; empty for unknown or unsupported schemes. */
  public static Optional<SignatureScheme> fromCodePoint(int codePoint) {
    return Optional.ofNullable(BY_CODE.get(codePoint));
  }

  /** All schemes, in the order a server should prefer them for a key of the given type. */
  public static List<SignatureScheme> forKeyType(KeyType type) {
    return Arrays.stream(values()).filter(s -> s.keyType == type).toList();
  }

  /** The TLS code point. */
  public int codePoint() {
    return codePoint;
  }

  /** The IANA name, e.g. "rsa_pss_rsae_sha256". */
  public String ianaName() {
    return ianaName;
  }

  public KeyType keyType() {
    return keyType;
  }

  public Hash hash() {
    return hash;
  }

  public Padding padding() {
    return padding;
  }

  /** The TLS 1.3 named curve for ECDSA schemes ("secp256r1", ...); null for RSA. */
  public String curve() {
    return curve;
  }

  /**
   * The JCA algorithm name that signs a whole message with this scheme, e.g. "SHA256withRSA",
   * "RSASSA-PSS" (with {@link #pssParameters()}), "SHA256withECDSA".
   */
  public String jcaSignatureName() {
    return switch (padding) {
      case PKCS1 -> hash.shortName() + "withRSA";
      case PSS -> "RSASSA-PSS";
      case ECDSA -> hash.shortName() + "withECDSA";
    };
  }

  /** PSS parameters (MGF1 with the same hash, salt length = hash length); null otherwise. */
  public java.security.spec.PSSParameterSpec pssParameters() {
    if (padding != Padding.PSS) {
      return null;
    }
    return new java.security.spec.PSSParameterSpec(
        hash.jcaName(),
        "MGF1",
        new java.security.spec.MGF1ParameterSpec(hash.jcaName()),
        hash.length(),
        java.security.spec.PSSParameterSpec.TRAILER_FIELD_BC);
  }

  /**
   * The smallest RSA modulus, in bits, that can carry this scheme; 0 for ECDSA. PSS needs emLen ≥
   * hLen + sLen + 2 (RFC 8017 §9.1.1); PKCS#1 v1.5 needs DigestInfo + 11.
   */
  public int minRsaBits() {
    return switch (padding) {
      case PSS -> (2 * hash.length() + 2) * 8 + 1;
      case PKCS1 -> (hash.digestInfoPrefix.length + hash.length() + 11) * 8;
      case ECDSA -> 0;
    };
  }

  /**
   * Whether this scheme can be used with a key of this type, size and curve. For ECDSA the curve
   * must match: TLS 1.3 binds the curve to the scheme, and a TLS 1.2 caller that only knows the
   * hash picks the scheme of the key's own curve.
   */
  public boolean fits(KeyType type, int keyBits, String keyCurve) {
    if (type != keyType) {
      return false;
    }
    return switch (padding) {
      case PKCS1, PSS -> keyBits >= minRsaBits();
      case ECDSA -> curve.equals(keyCurve);
    };
  }
}
