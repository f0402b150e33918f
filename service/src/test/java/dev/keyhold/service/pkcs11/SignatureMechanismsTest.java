package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.pkcs11.SignatureMechanisms.Mechanism;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The scheme table has exactly one row per scheme, and each row says what DESIGN.md says. */
class SignatureMechanismsTest {

  @Test
  void everyScheme_hasExactlyOneRow() {
    assertThat(SignatureMechanisms.all().keySet())
        .isEqualTo(EnumSet.allOf(SignatureScheme.class))
        .hasSize(SignatureScheme.values().length);
    assertThat(SignatureMechanisms.all().values()).doesNotContainNull();
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void row_matchesTheSchemesPadding(SignatureScheme s) {
    Mechanism m = SignatureMechanisms.of(s);
    byte[] digest = new byte[s.hash().length()];
    digest[0] = 7;
    switch (s.padding()) {
      case PKCS1 -> {
        assertThat(m.ckm()).isEqualTo("CKM_RSA_PKCS");
        assertThat(m.jcaAlgorithm()).isEqualTo("NONEwithRSA");
        assertThat(m.signatureInput(digest)).isEqualTo(s.hash().digestInfo(digest));
        assertThat(m.isRawRsa()).isFalse();
      }
      case ECDSA -> {
        assertThat(m.ckm()).isEqualTo("CKM_ECDSA");
        assertThat(m.jcaAlgorithm()).isEqualTo("NONEwithECDSA");
        assertThat(m.signatureInput(digest)).isEqualTo(digest);
        assertThat(m.isRawRsa()).isFalse();
      }
      case PSS -> {
        assertThat(m.ckm()).isEqualTo("CKM_RSA_X_509");
        assertThat(m.jcaAlgorithm()).isEqualTo(SignatureMechanisms.RAW_RSA);
        assertThat(m.isRawRsa()).isTrue();
        assertThat(m.pss().getSaltLength()).isEqualTo(s.hash().length());
        assertThat(m.pss().getDigestAlgorithm()).isEqualTo(s.hash().jcaName());
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = SignatureScheme.class,
      names = {"RSA_PSS_RSAE_SHA256", "RSA_PSS_RSAE_SHA384", "RSA_PSS_RSAE_SHA512"})
  void hsmPss_pssScheme_isCkmRsaPkcsPssWithParameters(SignatureScheme s) {
    sun.security.pkcs11.wrapper.CK_MECHANISM m = SignatureMechanisms.hsmPss(s);

    assertThat(m.mechanism).isEqualTo(TokenObjects.CKM_RSA_PKCS_PSS);
    assertThat(m.pParameter).isInstanceOf(sun.security.pkcs11.wrapper.CK_RSA_PKCS_PSS_PARAMS.class);
  }

  @Test
  void hsmPss_otherScheme_isRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> SignatureMechanisms.hsmPss(SignatureScheme.RSA_PKCS1_SHA256))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rsa_pkcs1_sha256 is not a PSS scheme");
  }

  @Test
  void toString_namesMechanismAndJcaAlgorithm() {
    assertThat(SignatureMechanisms.of(SignatureScheme.ECDSA_SECP256R1_SHA256))
        .hasToString("CKM_ECDSA as NONEwithECDSA");
  }
}
