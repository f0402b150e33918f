package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.VendorProfile;
import dev.keyhold.service.testing.TestHsm;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The start-up report against the real SoftHSM token, and the missing-token message of each vendor
 * profile (the SoftHSM library stands in for the vendor's: the message depends on the profile).
 */
class TokenReportIT {

  @Test
  void report_softHsm_listsItsMechanismsAndEnablesEveryFeatureInRawMode() {
    HsmConfig hsm = TestHsm.shared().hsmConfig();
    long slot = TestHsm.shared().token().slot();

    TokenReport report = TokenReport.of(hsm, slot, Map.of());

    assertThat(report.profile()).isEqualTo("softhsm2");
    assertThat(report.mechanisms())
        .containsKeys("CKM_RSA_PKCS", "CKM_RSA_X_509", "CKM_ECDSA", "CKM_RSA_PKCS_KEY_PAIR_GEN");
    assertThat(report.mechanisms().get("CKM_RSA_X_509").decrypt()).isTrue();
    assertThat(report.mechanisms().get("CKM_ECDSA").sign()).isTrue();
    assertThat(report.features())
        .contains(
            "RSA PKCS#1 v1.5 signatures: enabled (CKM_RSA_PKCS)",
            "RSA-PSS signatures: enabled (EMSA-PSS in the service, CKM_RSA_X_509 sign)",
            "ECDSA signatures: enabled (CKM_ECDSA over the digest)",
            "key generation (keys generate): RSA yes, EC yes")
        .anyMatch(f -> f.startsWith("DecryptPremaster: enabled, decryptMode raw"));
    assertThat(report.warnings()).isEmpty();

    String block = report.render(hsm, slot);
    assertThat(block)
        .startsWith(
            "token report: token '"
                + TestHsm.TOKEN_LABEL
                + "' (slot "
                + slot
                + ") through "
                + hsm.library()
                + ", profile softhsm2")
        .contains("CKM_RSA_X_509[sign, decrypt]")
        .contains("  ECDSA signatures: enabled");
  }

  @Test
  void report_pkcs1Mode_onSoftHsm_usesCkmRsaPkcsDecrypt() {
    HsmConfig raw = TestHsm.shared().hsmConfig();
    HsmConfig pkcs1 =
        new HsmConfig(
            raw.library(),
            raw.tokenLabel(),
            null,
            raw.pin(),
            2,
            0,
            HsmConfig.DecryptMode.PKCS1,
            "softhsm2");

    TokenReport report = TokenReport.of(pkcs1, TestHsm.shared().token().slot(), Map.of());

    assertThat(report.features())
        .anyMatch(f -> f.startsWith("DecryptPremaster: enabled, decryptMode pkcs1 (CKM_RSA_PKCS"));
    assertThat(report.warnings()).isEmpty();
  }

  @Test
  void missingToken_namesTheLibraryAndThatProfilesOwnHints() {
    HsmConfig base = TestHsm.shared().hsmConfig();
    for (String profile : VendorProfile.KNOWN) {
      HsmConfig hsm =
          new HsmConfig(base.library(), "no-such-token", null, base.pin(), 2, 0, null, profile);
      VendorProfile vendor = VendorProfile.named(profile);

      assertThatThrownBy(() -> TokenLocator.resolve(hsm))
          .as(profile)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("no token labelled 'no-such-token' in " + base.library())
          .hasMessageContaining(vendor.title() + ": " + vendor.setupHints().get(0));
      if (!profile.equals("softhsm2")) {
        assertThatThrownBy(() -> TokenLocator.resolve(hsm))
            .as("%s gets no SoftHSM hint", profile)
            .message()
            .doesNotContain("bootstrap.sh");
      }
    }
  }
}
