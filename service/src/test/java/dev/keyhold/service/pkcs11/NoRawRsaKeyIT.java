package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.testing.TestHsm;
import org.junit.jupiter.api.Test;

/**
 * The restricted test key is a faithful stand-in for an HSM that forbids raw RSA, and start-up
 * detects it: the token refuses CKM_RSA_X_509 with it, and discovery picks the raw-RSA-free path
 * for it (and the raw path for the standard keys).
 */
class NoRawRsaKeyIT {

  private static Pkcs11Key key(Pkcs11Token token, String name) {
    return token.discoverKeys().stream()
        .filter(k -> k.description().name().equals(name))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void restrictedKey_tokenRefusesRawRsa() {
    Pkcs11Key key = key(TestHsm.shared().noRawRsaToken(), TestHsm.NO_RAW_RSA_KEY);
    byte[] block = new byte[256];
    block[255] = 2;

    assertThatThrownBy(() -> key.rawRsa(block)).isInstanceOf(HsmException.class);
  }

  @Test
  void discovery_restrictedKey_choosesPssInTheHsmAndPkcs1Decryption() throws Exception {
    Pkcs11Token token = TestHsm.shared().noRawRsaToken();
    Pkcs11Key key = key(token, TestHsm.NO_RAW_RSA_KEY);
    long[] handles = token.objects().objectsOf(TestHsm.NO_RAW_RSA_KEY, 3 /* CKO_PRIVATE_KEY */);

    assertThat(handles).hasSize(1);
    assertThat(token.objects().allowedMechanisms(handles[0]))
        .containsExactlyInAnyOrder(TokenObjects.CKM_RSA_PKCS, TokenObjects.CKM_RSA_PKCS_PSS);
    assertThat(key.rsaPath()).isEqualTo(Pkcs11Key.RsaPath.NO_RAW_RSA);
    assertThat(key.allowsRawRsa()).isFalse();
    assertThat(key.signsPssInHsm()).isTrue();
  }

  @Test
  void discovery_standardKeys_keepTheRawRsaPath() {
    Pkcs11Token token = TestHsm.shared().token();

    assertThat(key(token, "rsa2048").rsaPath()).isEqualTo(Pkcs11Key.RsaPath.RAW_RSA);
    assertThat(key(token, "ec-p256").rsaPath()).isEqualTo(Pkcs11Key.RsaPath.NONE);
  }
}
