package dev.keyhold.client.jca;

import dev.keyhold.client.rpc.KeyholdException;
import java.io.ByteArrayOutputStream;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.CipherSpi;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code RSA/ECB/PKCS1Padding} for Keyhold RSA handles, in DECRYPT and UNWRAP mode only, mapped
 * onto {@code DecryptPremaster}: it decrypts TLS RSA-encrypted pre-master secrets and nothing else,
 * and always returns 48 bytes.
 *
 * <p>How JSSE drives it (sun.security.ssl.RSAKeyExchange, JDK 17): it first inits a cipher in
 * UNWRAP_MODE with a {@code TlsRsaPremasterSecretParameterSpec}; for a provider that is not
 * SunJCE/SunPKCS11/SunMSCAPI it then discards that cipher, inits a <em>new</em> one in DECRYPT_MODE
 * without parameters, calls {@code doFinal}, catches only {@code BadPaddingException} and does its
 * own version check ({@code KeyUtil.checkTlsPreMasterSecretKey}). The client version therefore
 * reaches only the first instance; {@link TlsVersionHandoff} carries it, on the handshake thread,
 * to the second.
 *
 * <p>Security guarantees: bad padding or a wrong version yields the service's substitute, never an
 * exception. A failed remote call is an {@link IllegalBlockSizeException} (which JSSE turns into an
 * alert), never a {@link javax.crypto.BadPaddingException}: JSSE would silently replace the secret
 * and an outage would surface as {@code bad_record_mac} far from its cause.
 */
final class KeyholdRsaCipherSpi extends CipherSpi {
  /** TLS 1.2, when no TLS parameters were handed over (a plain DECRYPT_MODE caller). */
  static final int DEFAULT_CLIENT_VERSION = 0x0303;

  private KeyholdRsaPrivateKey key;
  private int mode;
  private int clientVersion = DEFAULT_CLIENT_VERSION;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);

  @Override
  protected void engineSetMode(String m) throws NoSuchAlgorithmException {
    if (!"ECB".equalsIgnoreCase(m) && !"NONE".equalsIgnoreCase(m)) {
      throw new NoSuchAlgorithmException("Keyhold RSA supports only ECB mode");
    }
  }

  @Override
  protected void engineSetPadding(String p) throws NoSuchPaddingException {
    if (!"PKCS1Padding".equalsIgnoreCase(p)) {
      throw new NoSuchPaddingException("Keyhold RSA supports only PKCS1Padding");
    }
  }

  @Override
  protected int engineGetBlockSize() {
    return 0;
  }

  @Override
  protected int engineGetOutputSize(int inputLen) {
    return 48;
  }

  @Override
  protected byte[] engineGetIV() {
    return null;
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    return null;
  }

  @Override
  protected void engineInit(int opmode, Key k, SecureRandom random) throws InvalidKeyException {
    bind(opmode, k);
    // A DECRYPT_MODE init right after JSSE's UNWRAP_MODE init on this thread, for this key.
    clientVersion = TlsVersionHandoff.take(key).orElse(DEFAULT_CLIENT_VERSION);
  }

  @Override
  protected void engineInit(int opmode, Key k, AlgorithmParameterSpec params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    if (params == null) {
      engineInit(opmode, k, random);
      return;
    }
    bind(opmode, k);
    clientVersion = TlsVersionHandoff.clientVersionOf(params);
    TlsVersionHandoff.offer(key, clientVersion);
  }

  @Override
  protected void engineInit(int opmode, Key k, AlgorithmParameters params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException("Keyhold RSA takes no AlgorithmParameters");
    }
    engineInit(opmode, k, random);
  }

  private void bind(int opmode, Key k) throws InvalidKeyException {
    if (!(k instanceof KeyholdRsaPrivateKey rsa)) {
      throw new InvalidKeyException("Keyhold decrypts only with Keyhold RSA key handles");
    }
    if (opmode != Cipher.DECRYPT_MODE && opmode != Cipher.UNWRAP_MODE) {
      // Encryption needs only the public key; the JDK's providers do it.
      throw new InvalidKeyException("Keyhold RSA supports only DECRYPT_MODE and UNWRAP_MODE");
    }
    this.key = rsa;
    this.mode = opmode;
    buffer.reset();
  }

  @Override
  protected byte[] engineUpdate(byte[] input, int off, int len) {
    buffer.write(input, off, len);
    return new byte[0];
  }

  @Override
  protected int engineUpdate(byte[] input, int off, int len, byte[] output, int outOff) {
    buffer.write(input, off, len);
    return 0;
  }

  @Override
  protected byte[] engineDoFinal(byte[] input, int off, int len) throws IllegalBlockSizeException {
    if (key == null || mode != Cipher.DECRYPT_MODE) {
      throw new IllegalStateException("Keyhold RSA: not initialized for DECRYPT_MODE");
    }
    if (input != null) {
      buffer.write(input, off, len);
    }
    byte[] ciphertext = buffer.toByteArray();
    buffer.reset();
    return decrypt(ciphertext);
  }

  @Override
  protected int engineDoFinal(byte[] input, int off, int len, byte[] output, int outOff)
      throws IllegalBlockSizeException, ShortBufferException {
    if (output.length - outOff < 48) {
      throw new ShortBufferException("need 48 bytes of output space");
    }
    byte[] out = engineDoFinal(input, off, len);
    System.arraycopy(out, 0, output, outOff, out.length);
    return out.length;
  }

  @Override
  protected java.security.Key engineUnwrap(
      byte[] wrappedKey, String wrappedKeyAlgorithm, int wrappedKeyType)
      throws InvalidKeyException, NoSuchAlgorithmException {
    if (key == null || mode != Cipher.UNWRAP_MODE) {
      throw new IllegalStateException("Keyhold RSA: not initialized for UNWRAP_MODE");
    }
    if (wrappedKeyType != Cipher.SECRET_KEY) {
      throw new InvalidKeyException("Keyhold unwraps only TLS pre-master secrets (SECRET_KEY)");
    }
    try {
      return new SecretKeySpec(decrypt(wrappedKey), wrappedKeyAlgorithm);
    } catch (IllegalBlockSizeException e) {
      throw new InvalidKeyException(e.getMessage(), e.getCause());
    }
  }

  private byte[] decrypt(byte[] ciphertext) throws IllegalBlockSizeException {
    // Answer as the JDK's own RSA cipher (SunRsaSign/SunJCE) does, so that JSSE answers a
    // malformed ClientKeyExchange exactly as with a local key: a shorter ciphertext is just a
    // smaller number (left-padded with zeros, then decrypted: bad padding, so JSSE's substitute and
    // bad_record_mac); a longer one, or one whose value is not below the modulus, is an error
    // (JSSE: illegal_parameter). Lengths and the modulus are public, so this is no oracle.
    int k = key.modulusBytes();
    if (ciphertext.length > k) {
      throw new IllegalBlockSizeException(
          "ciphertext must be at most " + k + " bytes for key " + key.keyName());
    }
    if (new java.math.BigInteger(1, ciphertext).compareTo(key.getModulus()) >= 0) {
      throw new IllegalBlockSizeException(
          "ciphertext is not below the modulus of key " + key.keyName());
    }
    if (ciphertext.length < k) {
      byte[] padded = new byte[k];
      System.arraycopy(ciphertext, 0, padded, k - ciphertext.length, ciphertext.length);
      ciphertext = padded;
    }
    try {
      return key.client().decryptPremaster(key.keyName(), ciphertext, clientVersion);
    } catch (KeyholdException e) {
      IllegalBlockSizeException ex =
          new IllegalBlockSizeException(
              "Keyhold DecryptPremaster with key '" + key.keyName() + "' failed");
      ex.initCause(e);
      throw ex;
    }
  }

  /** For tests: the client version this instance will send. */
  int clientVersion() {
    return clientVersion;
  }
}
