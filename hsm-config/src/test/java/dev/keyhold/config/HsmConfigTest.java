package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fault-tolerance settings of {@link HsmConfig}: defaults and what is refused. */
class HsmConfigTest {
  private static HsmConfig with(String profile, Duration probe, int stuck, List<String> codes) {
    return new HsmConfig(
        Path.of("/lib/p11.so"),
        "t",
        null,
        PinSource.ofEnv("X"),
        4,
        0,
        null,
        profile,
        null,
        probe,
        stuck,
        codes);
  }

  @Test
  void defaults_probeEveryFiveSeconds_halfTheSessionsMayBeStuck_softHsmAddsGeneralError() {
    HsmConfig soft = with("softhsm2", null, 0, null);
    assertThat(soft.probeInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(soft.maxStuckThreads()).isEqualTo(2);
    assertThat(soft.badPaddingCodes())
        .containsExactly(
            "CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE", "CKR_GENERAL_ERROR");
    assertThat(with("generic", null, 0, null).badPaddingCodes())
        .isEqualTo(HsmConfig.STANDARD_BAD_PADDING_CODES);
  }

  @Test
  void badPaddingCodes_refuseSessionAndDeviceCodes() {
    assertThatThrownBy(() -> with("generic", null, 0, List.of("CKR_OPERATION_ACTIVE")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("CKR_OPERATION_ACTIVE");
    assertThatThrownBy(() -> with("generic", Duration.ZERO, 0, null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hsm.probeInterval");
  }

  @Test
  void yaml_readsTheNewSettings() {
    java.util.List<String> problems = new java.util.ArrayList<>();
    ServiceConfig.Raw raw =
        new ConfigLoader()
            .parse(
                """
                tls: {certChain: c.pem, privateKey: k.pem, clientCa: ca.pem}
                shutdownGrace: 3s
                hsm:
                  library: /lib/p11.so
                  tokenLabel: t
                  pin: {env: X}
                  probeInterval: 200ms
                  maxStuckThreads: 3
                  badPaddingCodes: [CKR_ENCRYPTED_DATA_INVALID]
                """,
                "test",
                problems);
    assertThat(problems).isEmpty();
    ServiceConfig c = raw.resolveAgainst(Path.of("/etc/keyhold"));
    assertThat(c.shutdownGrace()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.hsm().probeInterval()).isEqualTo(Duration.ofMillis(200));
    assertThat(c.hsm().maxStuckThreads()).isEqualTo(3);
    assertThat(c.hsm().badPaddingCodes()).containsExactly("CKR_ENCRYPTED_DATA_INVALID");
  }

  @Test
  void withHealthAndWithLibrary_changeOnlyThat() {
    HsmConfig c = with("softhsm2", null, 0, null);

    HsmConfig h = c.withHealth(Duration.ofMillis(250), 3);
    HsmConfig l = c.withLibrary(Path.of("/tmp/shim.so"));

    assertThat(h.probeInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(h.maxStuckThreads()).isEqualTo(3);
    assertThat(h.library()).isEqualTo(c.library());
    assertThat(h.tokenLabel()).isEqualTo("t");
    assertThat(l.library()).isEqualTo(Path.of("/tmp/shim.so"));
    assertThat(l.probeInterval()).isEqualTo(c.probeInterval());
    assertThat(l.pin()).isEqualTo(c.pin());
  }

  @Test
  void describeToken_namesTheLabelOrElseTheSlot_neverThePin() {
    HsmConfig labelled = with("softhsm2", null, 0, null);
    HsmConfig bySlot =
        new HsmConfig(
            Path.of("/lib/p11.so"),
            null,
            7L,
            PinSource.ofEnv("X"),
            4,
            0,
            null,
            null,
            null,
            null,
            0,
            null);
    HsmConfig blankLabel =
        new HsmConfig(
            Path.of("/lib/p11.so"),
            " ",
            8L,
            PinSource.ofEnv("X"),
            4,
            0,
            null,
            null,
            null,
            null,
            0,
            null);

    assertThat(labelled.describeToken()).isEqualTo("token 't'");
    assertThat(bySlot.describeToken()).isEqualTo("slot 7");
    assertThat(blankLabel.describeToken()).isEqualTo("slot 8");
  }
}
