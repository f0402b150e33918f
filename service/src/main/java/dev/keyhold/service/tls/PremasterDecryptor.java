package dev.keyhold.service.tls;

import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.RawRsaKey;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Decrypts a TLS RSA-encrypted pre-master secret without acting as a padding oracle.
 *
 * <p>Raw mode (preferred): the HSM performs only the raw RSA operation (CKM_RSA_X_509); {@link
 * #depad} checks the PKCS#1 v1.5 block, the 48-byte length and the client version in constant time,
 * and selects either the embedded secret or a substitute, without a branch on any secret-dependent
 * value. PKCS#1 mode, for HSMs that forbid raw RSA, maps every padding failure to the substitute
 * too; there, timing is the HSM's. A key that does not allow raw RSA ({@link
 * RawRsaKey#allowsRawRsa()}) always uses PKCS#1 mode, whatever {@code hsm.decryptMode} says.
 *
 * <p>The substitute is deterministic ("implicit rejection", draft-irtf-cfrg-rsa-guidance):
 * HMAC-SHA256 under a key-derivation key (KDK) over the ciphertext and version, so the same
 * ciphertext always yields the same 48 bytes and a retry reveals nothing. The KDK is derived inside
 * the HSM, as a deterministic PKCS#1 signature (CKM_RSA_PKCS, never raw RSA) over a fixed
 * non-DigestInfo label that no caller can request, so replicas agree and no caller can compute it.
 *
 * <p>Security guarantees: for a well-formed request, status, length (always 48) and the code path
 * are the same whether the padding was valid or not.
 */
public final class PremasterDecryptor {
  /** The pre-master secret length of TLS 1.0-1.2 RSA key exchange. */
  public static final int PREMASTER_LENGTH = 48;

  private static final byte[] KDK_LABEL =
      "Keyhold implicit rejection KDK v1".getBytes(StandardCharsets.US_ASCII);

  private final RawRsaKey key;
  private final DecryptMode mode;
  private final SecretKeySpec kdk;

  private PremasterDecryptor(RawRsaKey key, DecryptMode mode, byte[] kdk) {
    this.key = key;
    this.mode = mode;
    this.kdk = new SecretKeySpec(kdk, "HmacSHA256");
    Arrays.fill(kdk, (byte) 0);
  }

  /** Derives the key's KDK inside the HSM. Call once per key; the result is thread-safe. */
  public static PremasterDecryptor create(HsmKey key, DecryptMode mode)
      throws GeneralSecurityException {
    int k = key.description().modulusBytes();
    if (k == 0) {
      throw new InvalidKeyException("key '" + key.description().name() + "' is not an RSA key");
    }
    // A block no caller can have signed: PKCS#1 type 1 over a label that is not a DigestInfo.
    byte[] label = Arrays.copyOf(KDK_LABEL, KDK_LABEL.length + 32);
    System.arraycopy(key.description().spkiSha256(), 0, label, KDK_LABEL.length, 32);
    // CKM_RSA_PKCS, not raw RSA: deterministic, so the same KDK as the raw operation over the
    // type-1 block gave, and it works on keys that forbid raw RSA.
    RawRsaKey raw = RawRsaKey.of(key);
    byte[] sig = raw.pkcs1Sign(label);
    byte[] kdk = MessageDigest.getInstance("SHA-256").digest(sig);
    return new PremasterDecryptor(raw, raw.allowsRawRsa() ? mode : DecryptMode.PKCS1, kdk);
  }

  /**
   * Returns 48 bytes: the pre-master secret, or the substitute when the padding, the length or the
   * version is wrong. Throws only for HSM failures, never for bad padding.
   *
   * @param ciphertext exactly modulus-length bytes (the caller has checked)
   */
  public byte[] decrypt(byte[] ciphertext, int clientVersion) throws GeneralSecurityException {
    byte[] substitute = substitute(ciphertext, clientVersion);
    if (new BigInteger(1, ciphertext)
            .compareTo(((RSAPublicKey) key.description().publicKey()).getModulus())
        >= 0) {
      // Not an RSA ciphertext (RFC 8017 §5.1.2: out of range), which HSMs reject with an
      // error that would read as an HSM failure. A decryption failure like any other; the
      // modulus is public, so this branch reveals nothing.
      return substitute;
    }
    if (mode == DecryptMode.RAW) {
      byte[] em = leftPad(key.rawRsa(ciphertext), key.description().modulusBytes());
      try {
        return depad(em, clientVersion, substitute);
      } finally {
        Arrays.fill(em, (byte) 0);
      }
    }
    byte[] plain;
    int ok;
    try {
      plain = key.pkcs1Decrypt(ciphertext);
      ok = 1;
    } catch (BadPaddingException | IllegalBlockSizeException e) {
      // A software key's padding failure. An InvalidKeyException ("init() failed") or any
      // other GeneralSecurityException is not bad padding and propagates.
      plain = new byte[PREMASTER_LENGTH];
      ok = 0;
    } catch (HsmException e) {
      if (e.reason() != HsmException.Reason.ENCRYPTED_DATA_INVALID) {
        throw e; // a real HSM failure, not bad padding
      }
      plain = new byte[PREMASTER_LENGTH];
      ok = 0;
    }
    ok &= plain.length == PREMASTER_LENGTH ? 1 : 0;
    byte[] fixed = Arrays.copyOf(plain, PREMASTER_LENGTH);
    ok &= eq(fixed[0], clientVersion >>> 8) & eq(fixed[1], clientVersion);
    byte[] out = select(ok, fixed, 0, substitute);
    Arrays.fill(plain, (byte) 0);
    Arrays.fill(fixed, (byte) 0);
    return out;
  }

  /**
   * Constant-time check of an encryption block {@code 00 02 PS 00 M} with |PS| ≥ 8, |M| = 48 and
   * M[0..1] = version; returns M, or {@code substitute} if any check fails. The work done does not
   * depend on where or whether the block is malformed.
   */
  public static byte[] depad(byte[] em, int clientVersion, byte[] substitute) {
    int k = em.length;
    int sep = k - PREMASTER_LENGTH - 1;
    int good = eq(em[0], 0) & eq(em[1], 2);
    good &= sep >= 10 ? 1 : 0; // at least 8 padding bytes; depends only on the public modulus size
    for (int i = 2; i < sep; i++) {
      good &= 1 ^ eq(em[i], 0);
    }
    good &= eq(em[sep], 0);
    good &= eq(em[sep + 1], clientVersion >>> 8) & eq(em[sep + 2], clientVersion);
    return select(good, em, sep + 1, substitute);
  }

  /** The deterministic substitute for this ciphertext and version. */
  byte[] substitute(byte[] ciphertext, int clientVersion) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(kdk);
    byte[] out = new byte[64];
    for (int block = 1; block <= 2; block++) {
      mac.update((byte) block);
      mac.update((byte) (clientVersion >>> 8));
      mac.update((byte) clientVersion);
      mac.update(ciphertext);
      mac.doFinal(out, (block - 1) * 32);
    }
    return Arrays.copyOf(out, PREMASTER_LENGTH);
  }

  /** 1 if the low bytes are equal, else 0, without a branch. */
  static int eq(int a, int b) {
    int x = (a ^ b) & 0xff;
    return (x - 1) >>> 31;
  }

  private static byte[] select(int good, byte[] src, int offset, byte[] substitute) {
    int mask = -good; // all ones when good
    byte[] out = new byte[PREMASTER_LENGTH];
    for (int i = 0; i < PREMASTER_LENGTH; i++) {
      out[i] = (byte) ((src[offset + i] & mask) | (substitute[i] & ~mask));
    }
    return out;
  }

  private static byte[] leftPad(byte[] b, int k) {
    if (b.length == k) {
      return b;
    }
    byte[] out = new byte[k];
    System.arraycopy(
        b, Math.max(0, b.length - k), out, Math.max(0, k - b.length), Math.min(k, b.length));
    return out;
  }
}
