package dev.keyhold.client.jca;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.util.Set;

/**
 * A handle to an EC private key held by Keyhold. It exposes the curve through {@link ECKey}, so
 * JSSE can match signature schemes to the key's named group. It is deliberately not an {@code
 * ECPrivateKey} (see {@link KeyholdPrivateKey}).
 */
public final class KeyholdEcPrivateKey extends KeyholdPrivateKey implements ECKey {
  private static final long serialVersionUID = 1L;

  KeyholdEcPrivateKey(
      KeyholdClient client,
      String keyName,
      ECPublicKey publicKey,
      int keyBits,
      String curve,
      Set<SignatureScheme> schemes) {
    super(client, keyName, publicKey, keyBits, curve, schemes);
  }

  /** Exactly "EC": JSSE compares it with the certificate's key type. */
  @Override
  public String getAlgorithm() {
    return "EC";
  }

  @Override
  public KeyType keyType() {
    return KeyType.KEY_TYPE_EC;
  }

  @Override
  public ECParameterSpec getParams() {
    return ((ECPublicKey) publicKey()).getParams();
  }
}
