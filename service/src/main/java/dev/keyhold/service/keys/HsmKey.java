package dev.keyhold.service.keys;

import dev.keyhold.proto.SignatureScheme;
import java.security.GeneralSecurityException;

/**
 * One key held in an HSM: its public description and the private-key primitives the HSM performs
 * with it. Implementations live in {@code ..pkcs11}; callers never see key bytes.
 *
 * <p>Security note: {@link #rawRsa} is never exposed on the wire; it serves only the service's own
 * pre-master depadding and PSS encoding, whose results are checked.
 */
public interface HsmKey {

  KeyDescription description();

  /**
   * Signs a digest with a PKCS#1 v1.5 or ECDSA scheme in the HSM (CKM_RSA_PKCS over DigestInfo, or
   * CKM_ECDSA returning DER). PSS goes through {@link #rawRsa}.
   */
  byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException;

  /** The raw RSA private operation (CKM_RSA_X_509): input and output are modulus-length. */
  byte[] rawRsa(byte[] input) throws GeneralSecurityException;

  /** PKCS#1 v1.5 decryption in the HSM (CKM_RSA_PKCS), for HSMs that forbid raw RSA. */
  byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException;

  /**
   * Checks a signature over a digest with this key's public key. The default verifies in software;
   * HSM-backed keys may verify with the token's native code, which is much faster than the JDK's EC
   * arithmetic.
   */
  default boolean verifyDigest(SignatureScheme scheme, byte[] digest, byte[] signature)
      throws GeneralSecurityException {
    return Signer.verify(description(), scheme, digest, signature);
  }
}
