package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.KeyObjectAttributes;
import dev.keyhold.service.testing.TestHsm;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sun.security.pkcs11.wrapper.PKCS11Constants;

/**
 * Key objects as a PKCS#11 user expects, read back with C_GetAttributeValue from the real token:
 * the private key carries the key's name as CKA_LABEL, is sensitive and not extractable; with the
 * public key and certificate labelled too and only the usages each key type needs, for the keys
 * {@code keys ensure} (the bootstrap path, {@link KeyProvisioner#ensure}) creates. The CLI's
 * generate and import paths are checked the same way in {@code KeysCommandIT}.
 */
class KeyObjectsIT {

  @ParameterizedTest
  @ValueSource(strings = {"rsa2048", "ec-p256"})
  void provisionedKey_privateObjectIsLabelledSensitiveAndNotExtractable(String name)
      throws Exception {
    TokenObjects objects = TestHsm.shared().token().objects();
    long[] priv = objects.objectsOf(name, PKCS11Constants.CKO_PRIVATE_KEY);

    assertThat(priv).hasSize(1);
    assertThat(new String((char[]) objects.attribute(priv[0], PKCS11Constants.CKA_LABEL)))
        .isEqualTo(name);
    assertThat(objects.booleanAttribute(priv[0], PKCS11Constants.CKA_SENSITIVE)).isTrue();
    assertThat(objects.booleanAttribute(priv[0], PKCS11Constants.CKA_EXTRACTABLE)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"rsa2048", "rsa3072", "ec-p256", "ec-p384"})
  void provisionedKey_allObjectsLabelled_onlyTheUsagesItNeeds(String name) throws Exception {
    KeyObjectAttributes.assertKeyObjects(name, name.startsWith("rsa"), true);
  }
}
