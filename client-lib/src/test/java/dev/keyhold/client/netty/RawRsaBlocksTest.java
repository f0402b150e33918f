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
}
