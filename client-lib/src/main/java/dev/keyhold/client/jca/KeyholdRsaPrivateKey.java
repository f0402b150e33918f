package dev.keyhold.client.jca;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import java.math.BigInteger;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Set;

/**
 * A handle to an RSA private key held by Keyhold. It exposes the modulus through {@link RSAKey}
 * because JSSE sizes RSA keys that way ({@code KeyUtil.getKeySize}); without it every RSA signature
 * scheme is rejected as too small. It is deliberately not an {@code RSAPrivateKey} (see {@link
 * KeyholdPrivateKey}).
 */
public final class KeyholdRsaPrivateKey extends KeyholdPrivateKey implements RSAKey {
  private static final long serialVersionUID = 1L;

  KeyholdRsaPrivateKey(
      KeyholdClient client, String keyName, RSAPublicKey publicKey, Set<SignatureScheme> schemes) {
    super(client, keyName, publicKey, publicKey.getModulus().bitLength(), "", schemes);
  }

  /** Exactly "RSA": JSSE compares it with the certificate's key type. */
  @Override
  public String getAlgorithm() {
    return "RSA";
  }

  @Override
  public KeyType keyType() {
    return KeyType.KEY_TYPE_RSA;
  }

  @Override
  public BigInteger getModulus() {
    return ((RSAPublicKey) publicKey()).getModulus();
  }

  /** Modulus length in bytes: the length of every ciphertext and signature. */
  public int modulusBytes() {
    return (keyBits() + 7) / 8;
  }
}
