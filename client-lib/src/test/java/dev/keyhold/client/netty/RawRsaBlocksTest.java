package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.util.Arrays;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

class RawRsaBlocksTest {

  @Test
  void encryptionBlock_2048bit_wellFormedPkcs1Type2() {
    byte[] pms = new byte[48];
    Arrays.fill(pms, (byte) 0x33);
    pms[0] = 3;
    pms[1] = 3;
    byte[] expected = pms.clone();
    byte[] block = RawRsaBlocks.encryptionBlock(pms, 256);
    assertThat(block).hasSize(256);
    assertThat(block[0]).isEqualTo((byte) 0);
    assertThat(block[1]).isEqualTo((byte) 2);
    for (int i = 2; i < 256 - 49; i++) {
      assertThat(block[i]).as("padding byte %d", i).isNotEqualTo((byte) 0);
    }
    assertThat(block[256 - 49]).isEqualTo((byte) 0);
    assertThat(Arrays.copyOfRange(block, 256 - 48, 256)).isEqualTo(expected);
    assertThat(pms).containsOnly(0); // the caller's copy is wiped
  }

  /**
   * The block is exactly what a standard PKCS#1 decryption would unpad to the pre-master secret.
   */
  @Test
  void encryptionBlock_standardDepadding_yieldsPremaster() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    byte[] pms = new byte[48];
    new java.security.SecureRandom().nextBytes(pms);
    byte[] expected = pms.clone();
    byte[] block = RawRsaBlocks.encryptionBlock(pms, 256);
    // Encrypt the block raw with the public key, then let the JDK do a PKCS#1 decryption.
    var pub = (java.security.interfaces.RSAPublicKey) kp.getPublic();
    byte[] c =
        new BigInteger(1, block).modPow(pub.getPublicExponent(), pub.getModulus()).toByteArray();
    if (c.length > 256) {
      c = Arrays.copyOfRange(c, c.length - 256, c.length);
    } else if (c.length < 256) {
      byte[] padded = new byte[256];
      System.arraycopy(c, 0, padded, 256 - c.length, c.length);
      c = padded;
    }
    Cipher dec = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    dec.init(Cipher.DECRYPT_MODE, (RSAPrivateKey) kp.getPrivate());
    assertThat(dec.doFinal(c)).isEqualTo(expected);
  }

  @Test
  void encryptionBlock_wrongLength_rejected() {
    assertThatThrownBy(() -> RawRsaBlocks.encryptionBlock(new byte[47], 256))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> RawRsaBlocks.encryptionBlock(new byte[48], 58))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** The smallest modulus with the 8 padding bytes PKCS#1 demands is 59 bytes: accepted. */
  @Test
  void encryptionBlock_exactlyEightPaddingBytes_isAccepted() {
    byte[] pms = new byte[48];
    Arrays.fill(pms, (byte) 7);
    byte[] block = RawRsaBlocks.encryptionBlock(pms, 59);
    assertThat(block).hasSize(59);
    assertThat(block[0]).isZero();
    assertThat(block[1]).isEqualTo((byte) 2);
    for (int i = 2; i < 10; i++) {
      assertThat(block[i]).as("padding byte %d", i).isNotZero();
    }
    assertThat(block[10]).isZero();
    assertThat(Arrays.copyOfRange(block, 11, 59)).containsOnly(7);
  }

  @Test
  void encryptionBlock_tooSmallModulus_namesItsSizeAndLeavesThePremaster() {
    byte[] pms = new byte[48];
    Arrays.fill(pms, (byte) 9);
    assertThatThrownBy(() -> RawRsaBlocks.encryptionBlock(pms, 58))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an RSA modulus of 58 bytes is too small for TLS key exchange");
    assertThatThrownBy(() -> RawRsaBlocks.encryptionBlock(new byte[49], 256))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Keyhold returned 49 bytes instead of a 48-byte pre-master secret");
  }

  /**
   * SecureRandom gives a zero byte at a given position with probability 1/256; over 64 blocks of
   * 205 padding bytes about 51 zeros are drawn (the chance of none is below 1e-22), and every one
   * must have been replaced: a block with a zero in PS would depad to a shorter message.
   */
  @Test
  void encryptionBlock_manyBlocks_paddingNeverContainsZero() {
    for (int n = 0; n < 64; n++) {
      byte[] block = RawRsaBlocks.encryptionBlock(new byte[48], 256);
      for (int i = 2; i < 256 - 49; i++) {
        assertThat(block[i]).as("block %d padding byte %d", n, i).isNotZero();
      }
      assertThat(block[256 - 49]).isZero();
    }
  }

  /** The padding is random (it is what a real encryption would produce), not a constant. */
  @Test
  void encryptionBlock_twoBlocks_haveDifferentPadding() {
    byte[] a = RawRsaBlocks.encryptionBlock(new byte[48], 256);
    byte[] b = RawRsaBlocks.encryptionBlock(new byte[48], 256);
    assertThat(Arrays.copyOfRange(a, 2, 256 - 49)).isNotEqualTo(Arrays.copyOfRange(b, 2, 256 - 49));
  }

  @Test
  void isRsaInput_lengthAndRangeBoundaries() {
    BigInteger modulus = BigInteger.ONE.shiftLeft(2047).add(BigInteger.valueOf(12345));
    byte[] m = toBytes(modulus, 256);
    byte[] below = toBytes(modulus.subtract(BigInteger.ONE), 256);
    byte[] above = toBytes(modulus.add(BigInteger.ONE), 256);
    assertThat(RawRsaBlocks.isRsaInput(below, 256, modulus)).as("modulus - 1").isTrue();
    assertThat(RawRsaBlocks.isRsaInput(new byte[256], 256, modulus)).as("zero").isTrue();
    assertThat(RawRsaBlocks.isRsaInput(m, 256, modulus)).as("the modulus itself").isFalse();
    assertThat(RawRsaBlocks.isRsaInput(above, 256, modulus)).as("modulus + 1").isFalse();
    assertThat(RawRsaBlocks.isRsaInput(Arrays.copyOf(below, 255), 256, modulus))
        .as("one byte short")
        .isFalse();
    assertThat(RawRsaBlocks.isRsaInput(new byte[257], 256, modulus)).as("one byte long").isFalse();
  }

  private static byte[] toBytes(BigInteger v, int length) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[length];
    int n = Math.min(b.length, length);
    System.arraycopy(b, b.length - n, out, length - n, n);
    return out;
  }
}
