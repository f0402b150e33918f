package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.PinSource;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The features derived from a token's mechanisms: what each gap disables (pure logic). */
class TokenReportTest {
  private static HsmConfig hsm(String profile, HsmConfig.DecryptMode mode) {
    return new HsmConfig(
        Path.of("/lib/p11.so"), "t", null, PinSource.ofEnv("X"), 2, 0, mode, profile);
  }

  private static Map<String, TokenReport.Mechanism> mechs(TokenReport.Mechanism... m) {
    return Stream.of(m).collect(Collectors.toMap(TokenReport.Mechanism::name, x -> x));
  }

  private static TokenReport.Mechanism m(String name, boolean sign, boolean decrypt) {
    return new TokenReport.Mechanism(name, sign, decrypt, false);
  }

  @Test
  void noRawRsa_disablesPssAndRawDecrypt_andSaysToUsePkcs1() {
    TokenReport r =
        TokenReport.derive(
            hsm("generic", HsmConfig.DecryptMode.RAW),
            mechs(m("CKM_RSA_PKCS", true, true), m("CKM_RSA_PKCS_PSS", true, false)),
            Map.of());

    assertThat(r.features())
        .contains(
            "RSA PKCS#1 v1.5 signatures: enabled (CKM_RSA_PKCS)",
            "RSA-PSS signatures: DISABLED (needs CKM_RSA_X_509 sign; the token's CKM_RSA_PKCS_PSS"
                + " is not used: Keyhold receives digests)",
            "ECDSA signatures: DISABLED (no CKM_ECDSA sign)",
            "DecryptPremaster: DISABLED, decryptMode raw needs CKM_RSA_X_509 decrypt");
    assertThat(r.warnings())
        .containsExactly(
            "the token does not offer CKM_RSA_X_509 decrypt, so DecryptPremaster will fail in"
                + " decryptMode raw; set hsm.decryptMode: pkcs1 (CKM_RSA_PKCS is offered)");
  }

  @Test
  void cloudHshLike_rawSignOnly_pkcs1Default_enablesPssAndPkcs1Decrypt() {
    TokenReport r =
        TokenReport.derive(
            hsm("cloudhsm", null),
            mechs(
                m("CKM_RSA_PKCS", true, true),
                m("CKM_RSA_X_509", true, false),
                m("CKM_ECDSA", true, false)),
            Map.of());

    assertThat(r.features())
        .contains("RSA-PSS signatures: enabled (EMSA-PSS in the service, CKM_RSA_X_509 sign)")
        .anyMatch(f -> f.startsWith("DecryptPremaster: enabled, decryptMode pkcs1"));
    assertThat(r.warnings()).isEmpty();
  }

  @Test
  void pkcs1Mode_withoutPkcs1Decrypt_warns_andProfileWarningsAreIncluded() {
    TokenReport r =
        TokenReport.derive(
            hsm("yubihsm2", HsmConfig.DecryptMode.PKCS1),
            mechs(m("CKM_RSA_X_509", true, true)),
            Map.of());

    assertThat(r.warnings())
        .containsExactly(
            "the token does not offer CKM_RSA_PKCS decrypt, so DecryptPremaster will fail in"
                + " decryptMode pkcs1; set hsm.decryptMode: raw (CKM_RSA_X_509 is offered)",
            "profile yubihsm2: environment variable YUBIHSM_PKCS11_CONF is not set (path of"
                + " yubihsm_pkcs11.conf (connector = URL); without it the module reads"
                + " ./yubihsm_pkcs11.conf)");
  }
}
