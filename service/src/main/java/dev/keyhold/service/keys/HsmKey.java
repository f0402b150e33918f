package dev.keyhold.service.keys;

import dev.keyhold.proto.SignatureScheme;
import java.security.GeneralSecurityException;

/**
 * One key held in an HSM: its public description and the private-key primitives the HSM performs
 * with it. Implementations live in {@code ..pkcs11}; callers never see key bytes. Signing goes
 * through {@link Signer}, which adds the fault check.
 *
 * <p>Security note: the raw RSA private operation is not here: it is a signing oracle, offered only
 * by {@link RawRsaKey} to the pre-master decryptor and the PSS encoder.
 */
public interface HsmKey {

  KeyDescription description();

  /**
   * Signs a digest with a PKCS#1 v1.5 or ECDSA scheme in the HSM (CKM_RSA_PKCS over DigestInfo, or
   * CKM_ECDSA returning DER). PSS goes through {@link Signer} and {@link RawRsaKey}, except for
   * keys that {@link #signsPssInHsm()}: then CKM_RSA_PKCS_PSS over the digest.
   */
  byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException;

  /**
   * Whether PSS is signed by the HSM ({@link #signDigest}, CKM_RSA_PKCS_PSS over the digest)
   * because the key does not allow raw RSA. The default, false, encodes PSS in software.
   */
  default boolean signsPssInHsm() {
    return false;
  }

  /** PKCS#1 v1.5 decryption in the HSM (CKM_RSA_PKCS), for HSMs that forbid raw RSA. */
  byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException;
}
