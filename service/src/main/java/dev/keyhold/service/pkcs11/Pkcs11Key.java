package dev.keyhold.service.pkcs11;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import javax.crypto.Cipher;

/**
 * A private key on a PKCS#11 token, used through SunPKCS11 with these mechanisms:
 * PKCS#1 v1.5 signatures as {@code NONEwithRSA} (CKM_RSA_PKCS over DigestInfo), ECDSA as
 * {@code NONEwithECDSA} (CKM_ECDSA: SoftHSM 2.6 has no CKM_ECDSA_SHA*), raw RSA as
 * {@code RSA/ECB/NoPadding} (CKM_RSA_X_509) and PKCS#1 decryption as
 * {@code RSA/ECB/PKCS1Padding} (CKM_RSA_PKCS).
 *
 * <p>Every JCA object is created, used and finished within one call, so no PKCS#11
 * session stays held by an unfinished operation.
 */
public final class Pkcs11Key implements HsmKey {
  private final KeyDescription description;
  private final PrivateKey privateKey;
  private final Provider provider;

  Pkcs11Key(KeyDescription description, PrivateKey privateKey, Provider provider) {
    this.description = description;
    this.privateKey = privateKey;
    this.provider = provider;
  }

  @Override
  public KeyDescription description() {
    return description;
  }

  @Override
  public byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException {
    Signature sig;
    byte[] input;
    switch (scheme.padding()) {
      case PKCS1 -> {
        sig = Signature.getInstance("NONEwithRSA", provider);
        input = scheme.hash().digestInfo(digest);
      }
      case ECDSA -> {
        sig = Signature.getInstance("NONEwithECDSA", provider);
        input = digest;
      }
      default -> throw new GeneralSecurityException(scheme.ianaName() + " is signed through raw RSA, not signDigest");
    }
    sig.initSign(privateKey);
    sig.update(input);
    return sig.sign();
  }

  @Override
  public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("RSA/ECB/NoPadding", provider);
    c.init(Cipher.DECRYPT_MODE, privateKey);
    return c.doFinal(input);
  }

  @Override
  public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding", provider);
    c.init(Cipher.DECRYPT_MODE, privateKey);
    return c.doFinal(ciphertext);
  }

  @Override
  public String toString() {
    return "Pkcs11Key[" + description + "]";
  }
}
