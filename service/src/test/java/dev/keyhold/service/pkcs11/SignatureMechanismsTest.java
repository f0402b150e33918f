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
}
