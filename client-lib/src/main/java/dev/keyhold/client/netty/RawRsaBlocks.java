package dev.keyhold.client.netty;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Builds the raw RSA result that BoringSSL's decrypt callback expects, from the 48 bytes that
 * {@code DecryptPremaster} returned: the PKCS#1 v1.5 encryption block {@code 00 02 PS 00 M} (RFC
 * 8017 §7.2.1) with PS nonzero random bytes, as long as the modulus.
 *
 * <p>Security note: this is a re-encoding of a value we already hold, not a decryption; raw RSA is
 * never requested from the service (it would be a signing oracle). The padding is random only
 * because the format demands nonzero bytes; it carries no secret.
 */
final class RawRsaBlocks {
  static final int PREMASTER_LENGTH = 48;
  private static final SecureRandom RANDOM = new SecureRandom();

  private RawRsaBlocks() {}

  /**
   * Whether {@code ciphertext} is an input raw RSA accepts for this modulus: exactly {@code
   * modulusBytes} long (BoringSSL's {@code RSA_decrypt} with {@code RSA_NO_PADDING} insists) and,
   * as a number, below the modulus. Both depend only on public values.
   */
  static boolean isRsaInput(byte[] ciphertext, int modulusBytes, java.math.BigInteger modulus) {
    return ciphertext.length == modulusBytes
        && new java.math.BigInteger(1, ciphertext).compareTo(modulus) < 0;
  }

  /** {@code 00 02 PS 00 premaster}, {@code modulusBytes} long; zeroes {@code premaster}. */
  static byte[] encryptionBlock(byte[] premaster, int modulusBytes) {
    if (premaster.length != PREMASTER_LENGTH) {
      throw new IllegalStateException(
          "Keyhold returned " + premaster.length + " bytes instead of a 48-byte pre-master secret");
    }
    int psLength = modulusBytes - PREMASTER_LENGTH - 3;
    if (psLength < 8) {
      throw new IllegalArgumentException(
          "an RSA modulus of " + modulusBytes + " bytes is too small for TLS key exchange");
    }
    byte[] block = new byte[modulusBytes];
    block[1] = 2;
    byte[] ps = new byte[psLength];
    RANDOM.nextBytes(ps);
    for (int i = 0; i < ps.length; i++) {
      // Nonzero is what the format requires; mapping 0 to 1 keeps the bytes nonzero without a retry
      // loop.
      block[2 + i] = ps[i] == 0 ? 1 : ps[i];
    }
    System.arraycopy(premaster, 0, block, modulusBytes - PREMASTER_LENGTH, PREMASTER_LENGTH);
    Arrays.fill(premaster, (byte) 0);
    return block;
  }
}
