package dev.keyhold.service.keys;

import java.security.GeneralSecurityException;

/**
 * The raw RSA private operation (CKM_RSA_X_509) of an RSA {@link HsmKey}: a signing oracle, so it
 * is not on {@link HsmKey}. Only the PSS encoder ({@link Signer}) and the pre-master decryptor
 * ({@code tls.PremasterDecryptor}) use it, whose results are checked; ArchitectureTest keeps every
 * other package, the gRPC layer first, from naming this type.
 */
public interface RawRsaKey extends HsmKey {

  /** The raw RSA private operation: input and output are modulus-length. */
  byte[] rawRsa(byte[] input) throws GeneralSecurityException;

  /** The key's raw RSA capability, or an exception saying the key has none. */
  static RawRsaKey of(HsmKey key) throws GeneralSecurityException {
    if (key instanceof RawRsaKey raw) {
      return raw;
    }
    throw new java.security.InvalidKeyException(
        "key '" + key.description().name() + "' offers no raw RSA operation");
  }
}
