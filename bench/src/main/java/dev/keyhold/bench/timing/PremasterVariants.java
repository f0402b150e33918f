package dev.keyhold.bench.timing;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.List;

/**
 * Encrypted pre-master secrets for the timing benchmark: one valid PKCS#1 v1.5 block and every
 * malformation the security issue lists, each encrypted with the key's public exponent (raw RSA,
 * so the malformed blocks reach the service exactly as built). "Equal to the modulus" is left out:
 * it is refused on public data before any private operation (client-lib and the service check the
 * range), so it has nothing to time.
 */
public final class PremasterVariants {
  /** One kind of ciphertext: a name and how its plaintext block is built. */
  public enum Variant {
    VALID,
    WRONG_FIRST_BYTE,
    WRONG_BLOCK_TYPE,
    NO_ZERO_SEPARATOR,
    SEPARATOR_IN_FIRST_8_PADDING_BYTES,
    PLAINTEXT_LENGTH_47,
    PLAINTEXT_LENGTH_49,
    WRONG_VERSION,
    ALL_ZEROS;

    /** Lower-case name as the report prints it. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The client version every variant but {@link Variant#WRONG_VERSION} carries (TLS 1.2). */
  public static final int CLIENT_VERSION = 0x0303;

  private PremasterVariants() {}

  /** All variants, valid first. */
  public static List<Variant> all() {
    return List.of(Variant.values());
  }

  /**
   * A ciphertext and, for {@link Variant#VALID}, the pre-master the service must return (null for
   * the others: the service returns a substitute of the same length).
   */
  public record Sample(Variant variant, byte[] ciphertext, byte[] expectedPremaster) {}

  /** A fresh sample of this variant (new random padding and premaster each time). */
  public static Sample sample(Variant v, RSAPublicKey key, SecureRandom random) {
    int k = (key.getModulus().bitLength() + 7) / 8;
    byte[] block = plaintext(v, k, random);
    BigInteger m = new BigInteger(1, block);
    BigInteger c = m.modPow(key.getPublicExponent(), key.getModulus());
    byte[] expected = v == Variant.VALID ? Arrays.copyOfRange(block, k - 48, k) : null;
    return new Sample(v, fixed(c, k), expected);
  }

  /** The plaintext block of a variant, {@code k} bytes. Package-private for the unit test. */
  static byte[] plaintext(Variant v, int k, SecureRandom random) {
    if (v == Variant.ALL_ZEROS) {
      return new byte[k];
    }
    int msgLen =
        switch (v) {
          case PLAINTEXT_LENGTH_47 -> 47;
          case PLAINTEXT_LENGTH_49 -> 49;
          default -> 48;
        };
    byte[] b = new byte[k];
    b[0] = 0;
    b[1] = 2;
    int sep = k - msgLen - 1;
    for (int i = 2; i < sep; i++) {
      b[i] = (byte) (1 + random.nextInt(255));
    }
    b[sep] = 0;
    byte[] msg = new byte[msgLen];
    random.nextBytes(msg);
    msg[0] = (byte) (CLIENT_VERSION >> 8);
    msg[1] = (byte) CLIENT_VERSION;
    System.arraycopy(msg, 0, b, sep + 1, msgLen);
    switch (v) {
      case WRONG_FIRST_BYTE -> b[0] = 1;
      case WRONG_BLOCK_TYPE -> b[1] = 1;
      case NO_ZERO_SEPARATOR -> b[sep] = (byte) (1 + random.nextInt(255));
      case SEPARATOR_IN_FIRST_8_PADDING_BYTES -> b[2 + 3] = 0;
      case WRONG_VERSION -> b[sep + 2] = 1; // 03 01 instead of 03 03
      default -> {}
    }
    if (v == Variant.NO_ZERO_SEPARATOR) {
      // no other zero may stand in for the separator
      for (int i = sep + 1; i < k; i++) {
        if (b[i] == 0) {
          b[i] = 1;
        }
      }
    }
    return b;
  }

  private static byte[] fixed(BigInteger c, int k) {
    byte[] raw = c.toByteArray();
    if (raw.length == k) {
      return raw;
    }
    if (raw.length > k) {
      return Arrays.copyOfRange(raw, raw.length - k, raw.length);
    }
    byte[] out = new byte[k];
    System.arraycopy(raw, 0, out, k - raw.length, raw.length);
    return out;
  }
}
