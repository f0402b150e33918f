package dev.keyhold.service.pkcs11;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmException.Reason;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.RawRsaKey;
import dev.keyhold.service.pkcs11.SignatureMechanisms.Mechanism;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.util.Set;
import javax.crypto.Cipher;

/**
 * A private key on a PKCS#11 token, used through SunPKCS11 with the mechanisms of {@link
 * SignatureMechanisms}. Every SunPKCS11 failure leaves as a classified {@link
 * dev.keyhold.service.keys.HsmException} (see {@link HsmFailures}).
 *
 * <p>Every JCA object is created, used and finished within one call, so no PKCS#11 session stays
 * held by an unfinished operation.
 */
public final class Pkcs11Key implements RawRsaKey {
  private final KeyDescription description;
  private final PrivateKey privateKey;
  private final Provider provider;
  private final Set<String> badPaddingCodes;
  private final RsaPath rsaPath;
  private final TokenObjects objects;
  private final long handle;

  /**
   * How an RSA key's PSS signatures and pre-master decryptions are done, chosen at start-up from
   * what the key allows (its CKA_ALLOWED_MECHANISMS and the token's mechanism list).
   */
  public enum RsaPath {
    /** CKM_RSA_X_509 allowed: PSS encoded in software, pre-master depadded in the service. */
    RAW_RSA,
    /** No raw RSA: PSS by CKM_RSA_PKCS_PSS over the digest, pre-master by CKM_RSA_PKCS. */
    NO_RAW_RSA,
    /** Not an RSA key. */
    NONE
  }

  // One JCA object per HSM thread and use, reused across calls: getInstance's provider lookup
  // and reflective construction cost more than a P-256 signature. Each call initializes the
  // object and finishes it, so no PKCS#11 session stays held between calls.
  private final ThreadLocal<Signature> rsaSigner =
      ThreadLocal.withInitial(
          () -> signature(SignatureMechanisms.of(SignatureScheme.RSA_PKCS1_SHA256).jcaAlgorithm()));
  private final ThreadLocal<Signature> ecSigner =
      ThreadLocal.withInitial(
          () ->
              signature(
                  SignatureMechanisms.of(SignatureScheme.ECDSA_SECP256R1_SHA256).jcaAlgorithm()));
  private final ThreadLocal<Cipher> rawCipher =
      ThreadLocal.withInitial(() -> cipher(SignatureMechanisms.RAW_RSA));

  Pkcs11Key(
      KeyDescription description,
      PrivateKey privateKey,
      Provider provider,
      Set<String> badPaddingCodes) {
    this(description, privateKey, provider, badPaddingCodes, RsaPath.RAW_RSA, null, 0);
  }

  /**
   * @param objects with {@code handle}, the key's private key object through the PKCS#11 wrapper;
   *     needed for {@link RsaPath#NO_RAW_RSA}
   */
  Pkcs11Key(
      KeyDescription description,
      PrivateKey privateKey,
      Provider provider,
      Set<String> badPaddingCodes,
      RsaPath rsaPath,
      TokenObjects objects,
      long handle) {
    this.description = description;
    this.privateKey = privateKey;
    this.provider = provider;
    this.badPaddingCodes = badPaddingCodes;
    this.rsaPath = description.modulusBytes() == 0 ? RsaPath.NONE : rsaPath;
    this.objects = objects;
    this.handle = handle;
  }

  /** The path chosen for this key at start-up. */
  public RsaPath rsaPath() {
    return rsaPath;
  }

  @Override
  public boolean allowsRawRsa() {
    return rsaPath == RsaPath.RAW_RSA;
  }

  @Override
  public boolean signsPssInHsm() {
    return rsaPath == RsaPath.NO_RAW_RSA;
  }

  private Signature signature(String algorithm) {
    try {
      return Signature.getInstance(algorithm, provider);
    } catch (GeneralSecurityException e) {
      throw new java.security.ProviderException(provider.getName() + " has no " + algorithm, e);
    }
  }

  private Cipher cipher(String transformation) {
    try {
      return Cipher.getInstance(transformation, provider);
    } catch (GeneralSecurityException e) {
      throw new java.security.ProviderException(
          provider.getName() + " has no " + transformation, e);
    }
  }

  @Override
  public KeyDescription description() {
    return description;
  }

  @Override
  public byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException {
    Mechanism m = SignatureMechanisms.of(scheme);
    if (m.isRawRsa()) {
      if (rsaPath != RsaPath.NO_RAW_RSA) {
        throw new GeneralSecurityException(
            scheme.ianaName() + " is signed through raw RSA, not signDigest");
      }
      try {
        return objects.sign(handle, SignatureMechanisms.hsmPss(scheme), digest);
      } catch (sun.security.pkcs11.wrapper.PKCS11Exception e) {
        throw HsmFailures.classify(e);
      }
    }
    try {
      return m.sign(
          scheme.padding() == SignatureScheme.Padding.ECDSA ? ecSigner.get() : rsaSigner.get(),
          privateKey,
          digest);
    } catch (GeneralSecurityException | java.security.ProviderException e) {
      throw HsmFailures.classify(e);
    }
  }

  @Override
  public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
    try {
      Cipher c = rawCipher.get();
      c.init(Cipher.DECRYPT_MODE, privateKey);
      return c.doFinal(input);
    } catch (GeneralSecurityException | java.security.ProviderException e) {
      throw HsmFailures.classify(e);
    }
  }

  /** CKM_RSA_PKCS over {@code data} as given, as SunPKCS11's {@code NONEwithRSA}. */
  @Override
  public byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
    try {
      Signature s = rsaSigner.get();
      s.initSign(privateKey);
      s.update(data);
      return s.sign();
    } catch (GeneralSecurityException | java.security.ProviderException e) {
      throw HsmFailures.classify(e);
    }
  }

  /**
   * Every failure leaves as an {@link HsmException}: one whose PKCS#11 return value is among this
   * module's bad-padding codes ({@code hsm.badPaddingCodes}) with reason {@link
   * Reason#ENCRYPTED_DATA_INVALID}, every other one (an {@code InvalidKeyException: init() failed}
   * from CKR_OPERATION_ACTIVE, a device error...) as the HSM failure it is. The same code path for
   * both: no work depends on which it was.
   */
  @Override
  public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
    try {
      Cipher c = Cipher.getInstance(SignatureMechanisms.PKCS1_DECRYPT, provider);
      c.init(Cipher.DECRYPT_MODE, privateKey);
      return c.doFinal(ciphertext);
    } catch (GeneralSecurityException | java.security.ProviderException e) {
      HsmException h = HsmFailures.classify(e);
      if (badPaddingCodes.contains(h.ckrName())) {
        throw new HsmException(Reason.ENCRYPTED_DATA_INVALID, h.ckrName(), "bad padding", e);
      }
      throw h.reason() == Reason.ENCRYPTED_DATA_INVALID
          ? new HsmException(Reason.OTHER, h.ckrName(), h.getMessage(), e)
          : h;
    }
  }

  @Override
  public String toString() {
    return "Pkcs11Key[" + description + "]";
  }
}
