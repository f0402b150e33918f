package dev.keyhold.service.api;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.pkcs11.SignatureMechanisms;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import javax.crypto.Cipher;

/**
 * The service's public entry point for tools that use the HSM in their own JVM (the bench's {@code
 * pkcs11-direct} and {@code jce} baselines): open the configured token and sign with the same
 * mechanisms as the service ({@link SignatureMechanisms}). Nothing outside the service module names
 * a class of {@code ..pkcs11}; ArchitectureTest in bench holds it to this package.
 */
public final class LocalHsm {
  private LocalHsm() {}

  /** Opens and logs in to the configured token; its SunPKCS11 provider, not installed globally. */
  public static Provider openProvider(HsmConfig hsm) {
    return Pkcs11Token.open(hsm).provider();
  }

  /** Whether the scheme's private step is raw RSA over a block encoded in software (PSS). */
  public static boolean signsWithRawRsa(SignatureScheme scheme) {
    return SignatureMechanisms.of(scheme).isRawRsa();
  }

  /** The JCA {@code Signature} algorithm of a PKCS#1 or ECDSA scheme. */
  public static String signatureAlgorithm(SignatureScheme scheme) {
    return SignatureMechanisms.of(scheme).jcaAlgorithm();
  }

  /** What the {@code Signature} signs for the scheme: the DigestInfo (PKCS#1) or the digest. */
  public static byte[] signatureInput(SignatureScheme scheme, byte[] digest) {
    return SignatureMechanisms.of(scheme).signatureInput(digest);
  }

  /** The raw RSA private operation (CKM_RSA_X_509) through a provider (null: the JDK's). */
  public static byte[] rawRsa(Provider provider, PrivateKey key, byte[] block)
      throws GeneralSecurityException {
    String t = SignatureMechanisms.RAW_RSA;
    Cipher c = provider == null ? Cipher.getInstance(t) : Cipher.getInstance(t, provider);
    c.init(Cipher.DECRYPT_MODE, key);
    return c.doFinal(block);
  }
}
