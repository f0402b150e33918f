package dev.keyhold.service.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.RawRsaKey;
import dev.keyhold.service.testing.SoftwareKey;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PremasterDecryptor#depad} over generated PKCS#1 v1.5 blocks, and the whole decryptor over
 * a software RSA key: valid blocks yield the secret, every malformed one the substitute.
 */
class PremasterDecryptorTest {
  private static final int TLS12 = 0x0303;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static SoftwareKey key;
  private static SoftwareKey otherKey;

  @BeforeAll
  static void keys() throws GeneralSecurityException {
    key = SoftwareKey.rsa("soft-rsa", 2048);
    otherKey = SoftwareKey.rsa("soft-rsa-2", 1024);
  }

  private static byte[] premaster(int version) {
    byte[] pm = new byte[48];
    RANDOM.nextBytes(pm);
    pm[0] = (byte) (version >>> 8);
    pm[1] = (byte) version;
    return pm;
  }

  private static byte[] substitute() {
    byte[] s = new byte[48];
    RANDOM.nextBytes(s);
    return s;
  }

  /** 00 02 PS 00 M with PS nonzero random bytes, k bytes in all. */
  private static byte[] block(int k, byte[] message) {
    byte[] em = new byte[k];
    em[1] = 2;
    for (int i = 2; i < k - message.length - 1; i++) {
      em[i] = (byte) (1 + RANDOM.nextInt(255));
    }
    System.arraycopy(message, 0, em, k - message.length, message.length);
    return em;
  }

  @ParameterizedTest(name = "k={0}")
  @ValueSource(ints = {59, 128, 256, 384, 512})
  void depad_validBlock_returnsThePremaster(int k) {
    byte[] pm = premaster(TLS12);
    byte[] em = block(k, pm);
    byte[] before = em.clone();

    assertThat(PremasterDecryptor.depad(em, TLS12, substitute())).isEqualTo(pm);
    assertThat(em).as("input left unchanged").isEqualTo(before);
  }

  /**
   * Every (position, value) that corrupts the 00 02 header: 255 values for each of the two bytes.
   */
  static List<int[]> headerCorruptions() {
    List<int[]> out = new ArrayList<>();
    for (int pos = 0; pos <= 1; pos++) {
      for (int v = 0; v < 256; v++) {
        if (v != (pos == 0 ? 0 : 2)) {
          out.add(new int[] {pos, v});
        }
      }
    }
    return out;
  }

  @Test
  void depad_everySingleByteCorruptionOfTheHeader_returnsTheSubstitute() {
    List<int[]> cases = headerCorruptions();
    assertThat(cases).hasSize(2 * 255);
    for (int[] c : cases) {
      byte[] pm = premaster(TLS12);
      byte[] sub = substitute();
      byte[] em = block(256, pm);
      em[c[0]] = (byte) c[1];

      assertThat(PremasterDecryptor.depad(em, TLS12, sub))
          .as("byte %d = 0x%02x", c[0], c[1])
          .isEqualTo(sub);
    }
  }

  @Test
  void depad_zeroByteAtAnyPaddingPosition_returnsTheSubstitute() {
    int k = 256;
    for (int i = 2; i < k - 49; i++) {
      byte[] pm = premaster(TLS12);
      byte[] sub = substitute();
      byte[] em = block(k, pm);
      em[i] = 0;

      assertThat(PremasterDecryptor.depad(em, TLS12, sub)).as("zero at %d", i).isEqualTo(sub);
    }
  }

  @ParameterizedTest(name = "{0} padding bytes")
  @ValueSource(ints = {0, 1, 7})
  void depad_paddingShorterThanEightBytes_returnsTheSubstitute(int padding) {
    byte[] pm = premaster(TLS12);
    byte[] sub = substitute();
    byte[] em = block(2 + padding + 1 + 48, pm);

    assertThat(PremasterDecryptor.depad(em, TLS12, sub)).isEqualTo(sub);
  }

  @Test
  void depad_exactlyEightPaddingBytes_isAccepted() {
    byte[] pm = premaster(TLS12);

    assertThat(PremasterDecryptor.depad(block(2 + 8 + 1 + 48, pm), TLS12, substitute()))
        .isEqualTo(pm);
  }

  @Test
  void depad_missingSeparator_returnsTheSubstitute() {
    byte[] pm = premaster(TLS12);
    byte[] sub = substitute();
    byte[] em = block(256, pm);
    em[256 - 49] = 0x37;

    assertThat(PremasterDecryptor.depad(em, TLS12, sub)).isEqualTo(sub);
  }

  @Test
  void depad_noZeroByteAnywhere_returnsTheSubstitute() {
    byte[] em = new byte[256];
    for (int i = 0; i < em.length; i++) {
      em[i] = (byte) (1 + RANDOM.nextInt(255));
    }
    byte[] sub = substitute();

    assertThat(PremasterDecryptor.depad(em, TLS12, sub)).isEqualTo(sub);
  }

  @ParameterizedTest(name = "client version 0x{0}")
  @ValueSource(ints = {0x0300, 0x0301, 0x0302, 0x0203, 0x0103})
  void depad_versionMismatch_returnsTheSubstitute(int claimed) {
    byte[] pm = premaster(TLS12);
    byte[] sub = substitute();

    assertThat(PremasterDecryptor.depad(block(256, pm), claimed, sub)).isEqualTo(sub);
  }

  @Test
  void depad_olderVersionThatMatches_isAccepted() {
    byte[] pm = premaster(0x0301);

    assertThat(PremasterDecryptor.depad(block(256, pm), 0x0301, substitute())).isEqualTo(pm);
  }

  @ParameterizedTest(name = "{0}-byte message")
  @ValueSource(ints = {0, 1, 46, 47, 49, 50, 100})
  void depad_wrongMessageLength_returnsTheSubstitute(int length) {
    byte[] message = new byte[length];
    RANDOM.nextBytes(message);
    if (length >= 2) {
      message[0] = 3;
      message[1] = 3;
    }
    byte[] sub = substitute();

    assertThat(PremasterDecryptor.depad(block(256, message), TLS12, sub)).isEqualTo(sub);
  }

  @Test
  void eq_everyBytePair_isOneExactlyWhenEqual() {
    for (int a = 0; a < 256; a++) {
      for (int b = 0; b < 256; b += 17) {
        assertThat(PremasterDecryptor.eq(a, b)).isEqualTo(a == b ? 1 : 0);
      }
    }
    assertThat(PremasterDecryptor.eq(0x1ff, 0xff)).as("compares low bytes only").isEqualTo(1);
  }

  private static byte[] encrypt(SoftwareKey k, byte[] plain) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.ENCRYPT_MODE, k.keyPair().getPublic());
    return c.doFinal(plain);
  }

  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void decrypt_validCiphertext_returnsThePremaster(DecryptMode mode)
      throws GeneralSecurityException {
    PremasterDecryptor d = PremasterDecryptor.create(key, mode);
    byte[] pm = premaster(TLS12);

    assertThat(d.decrypt(encrypt(key, pm), TLS12)).isEqualTo(pm);
  }

  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void decrypt_badCiphertexts_returnTheDeterministicSubstitute(DecryptMode mode)
      throws GeneralSecurityException {
    PremasterDecryptor d = PremasterDecryptor.create(key, mode);
    byte[] pm = premaster(TLS12);
    byte[] corrupted = encrypt(key, pm);
    corrupted[100] ^= 4;
    byte[] wrongLength = encrypt(key, Arrays.copyOf(pm, 47));
    byte[] valid = encrypt(key, pm);

    for (byte[] c : List.of(corrupted, wrongLength)) {
      byte[] out = d.decrypt(c, TLS12);
      assertThat(out).hasSize(48).isNotEqualTo(pm).isEqualTo(d.substitute(c, TLS12));
      assertThat(d.decrypt(c, TLS12)).isEqualTo(out);
    }
    assertThat(d.decrypt(valid, 0x0302)).isEqualTo(d.substitute(valid, 0x0302)).isNotEqualTo(pm);
  }

  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void decrypt_ciphertextNotBelowTheModulus_returnsTheSubstitute(DecryptMode mode)
      throws GeneralSecurityException {
    PremasterDecryptor d = PremasterDecryptor.create(key, mode);
    byte[] ct = new byte[256];
    Arrays.fill(ct, (byte) 0xff);

    assertThat(d.decrypt(ct, TLS12)).isEqualTo(d.substitute(ct, TLS12));
  }

  @Test
  void decrypt_rawAndPkcs1Modes_agreeOnSubstitutes() throws GeneralSecurityException {
    byte[] ct = encrypt(key, Arrays.copyOf(premaster(TLS12), 47));

    assertThat(PremasterDecryptor.create(key, DecryptMode.RAW).decrypt(ct, TLS12))
        .isEqualTo(PremasterDecryptor.create(key, DecryptMode.PKCS1).decrypt(ct, TLS12));
  }

  @Test
  void substitute_dependsOnKeyCiphertextAndVersion() throws GeneralSecurityException {
    PremasterDecryptor d = PremasterDecryptor.create(key, DecryptMode.RAW);
    PremasterDecryptor again = PremasterDecryptor.create(key, DecryptMode.RAW);
    PremasterDecryptor other = PremasterDecryptor.create(otherKey, DecryptMode.RAW);
    byte[] ct = new byte[256];
    RANDOM.nextBytes(ct);
    byte[] ct2 = ct.clone();
    ct2[255] ^= 1;

    assertThat(again.substitute(ct, TLS12))
        .as("same KDK after a restart")
        .isEqualTo(d.substitute(ct, TLS12));
    assertThat(
            List.of(
                d.substitute(ct2, TLS12), d.substitute(ct, 0x0302), other.substitute(ct, TLS12)))
        .allSatisfy(s -> assertThat(s).hasSize(48).isNotEqualTo(d.substitute(ct, TLS12)));
  }

  @Test
  void create_ecKey_isRefused() throws GeneralSecurityException {
    SoftwareKey ec = SoftwareKey.ec("soft-ec", "secp256r1");

    assertThatThrownBy(() -> PremasterDecryptor.create(ec, DecryptMode.RAW))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessageContaining("not an RSA key");
  }

  /**
   * The substitute is exactly the documented construction: KDK = SHA-256 of the key's PKCS#1
   * signature over "Keyhold implicit rejection KDK v1" || SPKI SHA-256, and the 48 bytes are the
   * first of HMAC-SHA256(KDK, 01 || version || ciphertext) || HMAC-SHA256(KDK, 02 || version ||
   * ciphertext), recomputed here with the JDK.
   */
  @Test
  void substitute_isTheDocumentedHmacConstruction() throws Exception {
    byte[] label = "Keyhold implicit rejection KDK v1".getBytes(StandardCharsets.US_ASCII);
    byte[] data = Arrays.copyOf(label, label.length + 32);
    System.arraycopy(key.description().spkiSha256(), 0, data, label.length, 32);
    Signature pkcs1 = Signature.getInstance("NONEwithRSA");
    pkcs1.initSign(key.keyPair().getPrivate());
    pkcs1.update(data);
    byte[] kdk = MessageDigest.getInstance("SHA-256").digest(pkcs1.sign());
    byte[] ct = new byte[256];
    RANDOM.nextBytes(ct);
    int version = 0x0301;
    byte[] expected = new byte[64];
    for (int block = 1; block <= 2; block++) {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(kdk, "HmacSHA256"));
      mac.update(new byte[] {(byte) block, 3, 1});
      System.arraycopy(mac.doFinal(ct), 0, expected, (block - 1) * 32, 32);
    }

    for (DecryptMode mode : DecryptMode.values()) {
      PremasterDecryptor d = PremasterDecryptor.create(key, mode);
      assertThat(d.substitute(ct, version)).isEqualTo(Arrays.copyOf(expected, 48));
    }
  }

  /** A ciphertext equal to the modulus is out of range too (RFC 8017 §5.1.2: c < n). */
  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void decrypt_ciphertextEqualToTheModulus_returnsTheSubstitute(DecryptMode mode)
      throws GeneralSecurityException {
    PremasterDecryptor d = PremasterDecryptor.create(key, mode);
    BigInteger n = ((RSAPublicKey) key.keyPair().getPublic()).getModulus();
    byte[] nb = n.toByteArray();
    byte[] ct = Arrays.copyOfRange(nb, nb.length - 256, nb.length);

    assertThat(d.decrypt(ct, TLS12)).isEqualTo(d.substitute(ct, TLS12));
  }

  /** The major version byte is checked too, not only the minor one. */
  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void decrypt_majorVersionMismatch_returnsTheSubstitute(DecryptMode mode)
      throws GeneralSecurityException {
    PremasterDecryptor d = PremasterDecryptor.create(key, mode);
    byte[] pm = premaster(TLS12);
    byte[] ct = encrypt(key, pm);

    assertThat(d.decrypt(ct, 0x0203)).isEqualTo(d.substitute(ct, 0x0203)).isNotEqualTo(pm);
  }

  /**
   * An HSM may return the raw RSA result without its leading zero bytes (as a big-endian number):
   * the decryptor left-pads it to the modulus length before depadding.
   */
  @Test
  void decrypt_rawResultWithoutLeadingZeros_isLeftPadded() throws GeneralSecurityException {
    RawRsaKey stripping =
        new RawRsaKey() {
          @Override
          public KeyDescription description() {
            return key.description();
          }

          @Override
          public byte[] signDigest(SignatureScheme scheme, byte[] digest)
              throws GeneralSecurityException {
            return key.signDigest(scheme, digest);
          }

          @Override
          public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
            return key.pkcs1Decrypt(ciphertext);
          }

          @Override
          public byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
            return key.pkcs1Sign(data); // CKM_RSA_PKCS: a full-length signature
          }

          @Override
          public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
            byte[] full = key.rawRsa(input);
            int i = 0;
            while (i < full.length - 1 && full[i] == 0) {
              i++;
            }
            return Arrays.copyOfRange(full, i, full.length);
          }
        };
    PremasterDecryptor d = PremasterDecryptor.create(stripping, DecryptMode.RAW);
    byte[] pm = premaster(TLS12);

    assertThat(d.decrypt(encrypt(key, pm), TLS12)).isEqualTo(pm);
    assertThat(d.substitute(new byte[256], TLS12))
        .as("the same KDK as the full-length key (the signature keeps its length)")
        .isEqualTo(
            PremasterDecryptor.create(key, DecryptMode.RAW).substitute(new byte[256], TLS12));
  }

  /** A key that forbids raw RSA is decrypted in PKCS#1 mode even when RAW is configured. */
  @Test
  void create_keyWithoutRawRsa_usesPkcs1Mode() throws GeneralSecurityException {
    AtomicInteger rawCalls = new AtomicInteger();
    AtomicInteger pkcs1Calls = new AtomicInteger();
    RawRsaKey noRaw =
        new RawRsaKey() {
          @Override
          public KeyDescription description() {
            return key.description();
          }

          @Override
          public byte[] signDigest(SignatureScheme scheme, byte[] digest)
              throws GeneralSecurityException {
            return key.signDigest(scheme, digest);
          }

          @Override
          public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
            pkcs1Calls.incrementAndGet();
            return key.pkcs1Decrypt(ciphertext);
          }

          @Override
          public boolean allowsRawRsa() {
            return false;
          }

          @Override
          public byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
            return key.pkcs1Sign(data);
          }

          @Override
          public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
            rawCalls.incrementAndGet();
            throw new InvalidKeyException("raw RSA is not allowed on this key");
          }
        };
    PremasterDecryptor d = PremasterDecryptor.create(noRaw, DecryptMode.RAW);
    byte[] pm = premaster(TLS12);

    assertThat(d.decrypt(encrypt(key, pm), TLS12)).isEqualTo(pm);
    assertThat(rawCalls).hasValue(0);
    assertThat(pkcs1Calls).hasValue(1);
  }
}
