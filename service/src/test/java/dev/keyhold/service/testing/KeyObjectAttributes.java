package dev.keyhold.service.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.pkcs11.TokenObjects;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * Reads a key's objects back from the token with C_GetAttributeValue (through {@link TokenObjects})
 * and checks them as a PKCS#11 user expects: private key, public key (when the creation path made
 * one) and certificate all labelled with the key's name; the private key sensitive, not
 * extractable, signing, decrypting only when RSA, never unwrapping or deriving; the public key
 * verifying, never wrapping.
 */
public final class KeyObjectAttributes {
  private KeyObjectAttributes() {}

  /**
   * @param publicObject whether the creation path leaves a public key object (generation does;
   *     SunPKCS11's import stores the private key and certificate only)
   */
  public static void assertKeyObjects(String name, boolean rsa, boolean publicObject)
      throws PKCS11Exception {
    TokenObjects o = TestHsm.shared().token().objects();
    long[] priv = o.objectsOf(name, PKCS11Constants.CKO_PRIVATE_KEY);
    assertThat(priv).as("private key objects of " + name).hasSize(1);
    long p = priv[0];
    assertThat(label(o, p)).as("private CKA_LABEL").isEqualTo(name);
    assertThat(o.booleanAttribute(p, PKCS11Constants.CKA_SENSITIVE)).as("CKA_SENSITIVE").isTrue();
    assertThat(o.booleanAttribute(p, PKCS11Constants.CKA_EXTRACTABLE))
        .as("CKA_EXTRACTABLE")
        .isFalse();
    assertThat(o.booleanAttribute(p, PKCS11Constants.CKA_SIGN)).as("CKA_SIGN").isTrue();
    assertThat(o.booleanAttribute(p, PKCS11Constants.CKA_DECRYPT)).as("CKA_DECRYPT").isEqualTo(rsa);
    assertThat(o.booleanAttribute(p, PKCS11Constants.CKA_UNWRAP)).as("CKA_UNWRAP").isFalse();
    assertThat(o.booleanAttribute(p, PKCS11Constants.CKA_DERIVE)).as("CKA_DERIVE").isFalse();

    long[] pub = o.objectsOf(name, PKCS11Constants.CKO_PUBLIC_KEY);
    assertThat(pub).as("public key objects of " + name).hasSize(publicObject ? 1 : 0);
    for (long q : pub) {
      assertThat(label(o, q)).as("public CKA_LABEL").isEqualTo(name);
      assertThat(o.booleanAttribute(q, PKCS11Constants.CKA_VERIFY)).as("CKA_VERIFY").isTrue();
      assertThat(o.booleanAttribute(q, PKCS11Constants.CKA_WRAP)).as("CKA_WRAP").isFalse();
      assertThat(o.booleanAttribute(q, PKCS11Constants.CKA_ENCRYPT))
          .as("CKA_ENCRYPT")
          .isEqualTo(rsa);
    }

    long[] cert = o.objectsOf(name, PKCS11Constants.CKO_CERTIFICATE);
    assertThat(cert).as("certificates of " + name).isNotEmpty();
    for (long c : cert) {
      assertThat(label(o, c)).as("certificate CKA_LABEL").isEqualTo(name);
    }
  }

  private static String label(TokenObjects o, long object) throws PKCS11Exception {
    Object v = o.attribute(object, PKCS11Constants.CKA_LABEL);
    return v == null ? null : new String((char[]) v);
  }
}
