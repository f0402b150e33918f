package dev.keyhold.service.pkcs11;

import dev.keyhold.proto.SignatureScheme;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PSSParameterSpec;
import java.util.EnumMap;
import java.util.Map;

/**
 * The one table of how each {@link SignatureScheme} is signed on a PKCS#11 token (through
 * SunPKCS11) or by a JCA provider. The switch in {@link #mechanismOf} is exhaustive, so a new
 * scheme does not compile until it has its row.
 *
 * <ul>
 *   <li>PKCS#1 v1.5: CKM_RSA_PKCS as {@code NONEwithRSA}, over the DigestInfo (prefix + digest);
 *   <li>ECDSA: CKM_ECDSA as {@code NONEwithECDSA}, over the bare digest, returning DER (SoftHSM 2.6
 *       has no CKM_ECDSA_SHA*);
 *   <li>RSA-PSS: SunPKCS11's {@code RSASSA-PSS} hashes its input and we only have the digest, so
 *       EMSA-PSS (salt of hash length, MGF1 with the same hash) is encoded in software and the
 *       private operation is raw RSA, CKM_RSA_X_509 as {@code RSA/ECB/NoPadding}. For a key that
 *       does not allow raw RSA (its CKA_ALLOWED_MECHANISMS omit CKM_RSA_X_509, or the token lacks
 *       it), the row is {@link #hsmPss}: CKM_RSA_PKCS_PSS over the digest through the PKCS#11
 *       wrapper, with the same parameters (salt of hash length, MGF1 with the same hash).
 * </ul>
 */
public final class SignatureMechanisms {
  private SignatureMechanisms() {}

  /** The transformation of the raw RSA private operation (CKM_RSA_X_509). */
  public static final String RAW_RSA = "RSA/ECB/NoPadding";

  /** The transformation of PKCS#1 v1.5 decryption (CKM_RSA_PKCS). */
  public static final String PKCS1_DECRYPT = "RSA/ECB/PKCS1Padding";

  /** How one scheme is signed. */
  public static final class Mechanism {
    private final String ckm;
    private final String jcaAlgorithm;
    private final byte[] digestInfoPrefix;
    private final PSSParameterSpec pss;

    Mechanism(String ckm, String jcaAlgorithm, byte[] digestInfoPrefix, PSSParameterSpec pss) {
      this.ckm = ckm;
      this.jcaAlgorithm = jcaAlgorithm;
      this.digestInfoPrefix = digestInfoPrefix;
      this.pss = pss;
    }

    /** The PKCS#11 mechanism the token performs, e.g. {@code CKM_RSA_PKCS}. */
    public String ckm() {
      return ckm;
    }

    /** The JCA {@code Signature} algorithm, or {@link #RAW_RSA} (a {@code Cipher}) for PSS. */
    public String jcaAlgorithm() {
      return jcaAlgorithm;
    }

    /** The EMSA-PSS parameters encoded in software, or null. */
    public PSSParameterSpec pss() {
      return pss;
    }

    /** Whether the private step is raw RSA over a block encoded in software (PSS). */
    public boolean isRawRsa() {
      return pss != null;
    }

    /** What the JCA {@code Signature} signs: the DigestInfo (PKCS#1) or the digest (ECDSA). */
    public byte[] signatureInput(byte[] digest) {
      if (digestInfoPrefix.length == 0) {
        return digest;
      }
      byte[] out = new byte[digestInfoPrefix.length + digest.length];
      System.arraycopy(digestInfoPrefix, 0, out, 0, digestInfoPrefix.length);
      System.arraycopy(digest, 0, out, digestInfoPrefix.length, digest.length);
      return out;
    }

    /**
     * Signs a digest with {@code sig}, an instance of {@link #jcaAlgorithm()} from the provider
     * that holds {@code key}. Not for raw RSA rows.
     */
    public byte[] sign(Signature sig, PrivateKey key, byte[] digest)
        throws GeneralSecurityException {
      if (isRawRsa()) {
        throw new GeneralSecurityException(ckm + " is raw RSA under software PSS, not a Signature");
      }
      sig.initSign(key);
      sig.update(signatureInput(digest));
      return sig.sign();
    }

    @Override
    public String toString() {
      return ckm + " as " + jcaAlgorithm;
    }
  }

  private static final Map<SignatureScheme, Mechanism> TABLE = new EnumMap<>(SignatureScheme.class);

  static {
    for (SignatureScheme s : SignatureScheme.values()) {
      TABLE.put(s, mechanismOf(s));
    }
  }

  /**
   * CKM_RSA_PKCS_PSS with {@code scheme}'s parameters, signing a digest inside the HSM (for keys
   * that do not allow raw RSA).
   */
  static sun.security.pkcs11.wrapper.CK_MECHANISM hsmPss(SignatureScheme scheme) {
    PSSParameterSpec p = of(scheme).pss();
    if (p == null) {
      throw new IllegalArgumentException(scheme.ianaName() + " is not a PSS scheme");
    }
    sun.security.pkcs11.wrapper.CK_MECHANISM m =
        new sun.security.pkcs11.wrapper.CK_MECHANISM(TokenObjects.CKM_RSA_PKCS_PSS);
    m.setParameter(
        new sun.security.pkcs11.wrapper.CK_RSA_PKCS_PSS_PARAMS(
            p.getDigestAlgorithm(),
            "MGF1",
            ((java.security.spec.MGF1ParameterSpec) p.getMGFParameters()).getDigestAlgorithm(),
            p.getSaltLength()));
    return m;
  }

  /** The row for a scheme. */
  public static Mechanism of(SignatureScheme scheme) {
    return TABLE.get(scheme);
  }

  /** Every row, keyed by scheme. */
  public static Map<SignatureScheme, Mechanism> all() {
    return java.util.Collections.unmodifiableMap(TABLE);
  }

  private static Mechanism mechanismOf(SignatureScheme s) {
    return switch (s) {
      case RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512 ->
          new Mechanism("CKM_RSA_PKCS", "NONEwithRSA", s.hash().digestInfoPrefix(), null);
      case RSA_PSS_RSAE_SHA256, RSA_PSS_RSAE_SHA384, RSA_PSS_RSAE_SHA512 ->
          new Mechanism("CKM_RSA_X_509", RAW_RSA, new byte[0], s.pssParameters());
      case ECDSA_SECP256R1_SHA256, ECDSA_SECP384R1_SHA384, ECDSA_SECP521R1_SHA512 ->
          new Mechanism("CKM_ECDSA", "NONEwithECDSA", new byte[0], null);
    };
  }
}
