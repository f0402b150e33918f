package dev.keyhold.service.testing;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.RawRsaKey;
import dev.keyhold.service.pkcs11.SignatureMechanisms;
import dev.keyhold.service.pkcs11.SignatureMechanisms.Mechanism;
import dev.keyhold.service.setup.LocalPki;
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
public final class SoftwareKey implements RawRsaKey {
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

  /** The same mechanisms as the token ({@link SignatureMechanisms}), by the JDK's providers. */
  @Override
  public byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException {
    Mechanism m = SignatureMechanisms.of(scheme); // PSS rows refuse: PSS goes through rawRsa
    return m.sign(Signature.getInstance(m.jcaAlgorithm()), pair.getPrivate(), digest);
  }

  @Override
  public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance(SignatureMechanisms.RAW_RSA);
    c.init(Cipher.DECRYPT_MODE, pair.getPrivate());
    return c.doFinal(input);
  }

  @Override
  public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance(SignatureMechanisms.PKCS1_DECRYPT);
    c.init(Cipher.DECRYPT_MODE, pair.getPrivate());
    return c.doFinal(ciphertext);
  }
}
