package dev.keyhold.bench.ops;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.service.api.LocalHsm;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;

/**
 * The keys the in-process baselines use: the same token key through SunPKCS11 ({@code
 * pkcs11-direct}) and a software key of equal size ({@code jce}).
 */
public final class Baselines {
  private Baselines() {}

  /**
   * A private key and the provider that uses it.
   *
   * @param provider null means the JDK's default software providers
   */
  public record LocalKey(Provider provider, PrivateKey privateKey, PublicKey publicKey) {}

  /**
   * Opens the token of {@code hsm} (its own SunPKCS11 instance and login) and finds the key by
   * label.
   */
  public static LocalKey pkcs11(HsmConfig hsm, String keyName) throws GeneralSecurityException {
    return pkcs11(LocalHsm.openProvider(hsm), hsm, keyName);
  }

  /**
   * Finds the key on an already configured SunPKCS11 provider. The token's own key store is not
   * exported, so this loads another view of it with the PIN from the same source.
   */
  public static LocalKey pkcs11(Provider provider, HsmConfig hsm, String keyName)
      throws GeneralSecurityException {
    KeyStore ks = pkcs11KeyStore(provider, hsm);
    if (!ks.isKeyEntry(keyName)) {
      throw new GeneralSecurityException("key '" + keyName + "' is not on " + hsm.describeToken());
    }
    PrivateKey priv = (PrivateKey) ks.getKey(keyName, null);
    PublicKey pub = ks.getCertificate(keyName).getPublicKey();
    return new LocalKey(provider, priv, pub);
  }

  /**
   * The token's key store through {@code provider}, logged in with the PIN from the config's
   * source.
   */
  public static KeyStore pkcs11KeyStore(Provider provider, HsmConfig hsm)
      throws GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS11", provider);
    char[] pin = hsm.pin().read();
    try {
      ks.load(null, pin);
    } catch (IOException e) {
      throw new GeneralSecurityException(
          "cannot log in to " + hsm.describeToken() + ": " + e.getMessage(), e);
    } finally {
      Arrays.fill(pin, '\0');
    }
    return ks;
  }

  /** A fresh software key of the same type and size as the Keyhold key. */
  public static LocalKey jce(KeyInfo key) throws GeneralSecurityException {
    KeyPair kp;
    if (key.getKeyType() == KeyType.KEY_TYPE_RSA) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(key.getKeyBits());
      kp = g.generateKeyPair();
    } else {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(key.getCurve()));
      kp = g.generateKeyPair();
    }
    return new LocalKey(null, kp.getPrivate(), kp.getPublic());
  }
}
