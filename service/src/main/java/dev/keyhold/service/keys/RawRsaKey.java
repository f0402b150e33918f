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

  /**
   * Whether the HSM allows the raw operation with this key. {@code false} for keys whose
   * CKA_ALLOWED_MECHANISMS omit CKM_RSA_X_509: then PSS is signed by {@link HsmKey#signDigest} and
   * pre-masters are decrypted with CKM_RSA_PKCS.
   */
  default boolean allowsRawRsa() {
    return true;
  }

  /**
   * A PKCS#1 v1.5 signature (CKM_RSA_PKCS) over {@code data} as given, not a DigestInfo: an oracle
   * too, used only to derive the pre-master decryptor's key (deterministic, so replicas agree). The
   * default is the raw operation over the type-1 block, which gives the same bytes.
   */
  default byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
    int k = description().modulusBytes();
    if (data.length > k - 11) {
      throw new java.security.SignatureException("data too long for a PKCS#1 signature");
    }
    byte[] em = new byte[k];
    em[1] = 1;
    java.util.Arrays.fill(em, 2, k - data.length - 1, (byte) 0xff);
    System.arraycopy(data, 0, em, k - data.length, data.length);
    return rawRsa(em);
  }

  /** The key's raw RSA capability, or an exception saying the key has none. */
  static RawRsaKey of(HsmKey key) throws GeneralSecurityException {
    if (key instanceof RawRsaKey raw) {
      return raw;
    }
    throw new java.security.InvalidKeyException(
        "key '" + key.description().name() + "' offers no raw RSA operation");
  }
}
