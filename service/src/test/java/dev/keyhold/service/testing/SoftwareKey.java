package dev.keyhold.service.testing;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.pki.LocalPki;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import javax.crypto.Cipher;

/**
 * An {@link HsmKey} whose private key lives in the JVM, for unit tests of pure logic (Signer,
 * PremasterDecryptor) that need no HSM. Never used by integration tests, which run against the real
 * SoftHSM token.
 */
public final class SoftwareKey implements HsmKey {
  private final KeyDescription description;
  private final KeyPair pair;

  private SoftwareKey(KeyDescription description, KeyPair pair) {
    this.description = description;
    this.pair = pair;
  }

  public static SoftwareKey rsa(String name, int bits) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return of(name, g.generateKeyPair());
  }

  public static SoftwareKey ec(String name, String curve) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return of(name, g.generateKeyPair());
  }

  private static SoftwareKey of(String name, KeyPair pair) throws GeneralSecurityException {
    LocalPki ca = LocalPki.create("Software key CA");
    return new SoftwareKey(
        KeyDescription.of(name, List.of(ca.issueFor(name, pair.getPublic(), List.of(), false))),
        pair);
  }

  public KeyPair keyPair() {
    return pair;
  }

  @Override
  public KeyDescription description() {
    return description;
  }

  @Override
  public byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException {
    Signature s;
    byte[] input;
    switch (scheme.padding()) {
      case PKCS1 -> {
        s = Signature.getInstance("NONEwithRSA");
        input = scheme.hash().digestInfo(digest);
      }
      case ECDSA -> {
        s = Signature.getInstance("NONEwithECDSA");
        input = digest;
      }
      default -> throw new GeneralSecurityException("PSS goes through rawRsa");
    }
    s.initSign(pair.getPrivate());
    s.update(input);
    return s.sign();
  }

  @Override
  public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("RSA/ECB/NoPadding");
    c.init(Cipher.DECRYPT_MODE, pair.getPrivate());
    return c.doFinal(input);
  }

  @Override
  public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.DECRYPT_MODE, pair.getPrivate());
    return c.doFinal(ciphertext);
  }
}
