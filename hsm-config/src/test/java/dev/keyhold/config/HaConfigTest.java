package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hsm.tokens} (HA group) and {@code hsm.probeTimeout} as the loader reads them. */
class HaConfigTest {
  private static final String BASE =
      """
      tls:
        certChain: pki/server.pem
        privateKey: pki/server.key
        clientCa: pki/ca.pem
      hsm:
        library: /usr/lib/softhsm/libsofthsm2.so
        pin: { file: pins/user.pin }
        probeInterval: 2s
      HSM_EXTRA
      """;

  @TempDir Path dir;

  private ServiceConfig load(String extra) throws Exception {
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, BASE.replace("HSM_EXTRA", extra));
    return new ConfigLoader().load(f);
  }

  @Test
  void tokens_membersInheritLibraryAndPin_overridesResolvedAgainstTheFile() throws Exception {
    ServiceConfig c =
        load(
            """
              tokens:
                - { tokenLabel: hsm-a }
                - { slot: 7, library: lib/p11.so, pin: { env: B_PIN } }
            """);
    List<HsmConfig> m = c.hsm().members();
    assertThat(m).hasSize(2);
    assertThat(m.get(0).tokenLabel()).isEqualTo("hsm-a");
    assertThat(m.get(0).library()).isEqualTo(Path.of("/usr/lib/softhsm/libsofthsm2.so"));
    assertThat(m.get(0).pin().file()).isEqualTo(dir.resolve("pins/user.pin"));
    assertThat(m.get(0).probeInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(m.get(1).slot()).isEqualTo(7L);
    assertThat(m.get(1).library()).isEqualTo(dir.resolve("lib/p11.so"));
    assertThat(m.get(1).pin().env()).isEqualTo("B_PIN");
    assertThat(m).allSatisfy(h -> assertThat(h.tokens()).isEmpty());
  }

  @Test
  void noTokens_oneMember_itself_andATokenIsRequired() throws Exception {
    ServiceConfig c = load("  tokenLabel: one");
    assertThat(c.hsm().members()).containsExactly(c.hsm());
    assertThatThrownBy(() -> load("  sessions: 2"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hsm.tokenLabel or hsm.slot is required");
    assertThatThrownBy(() -> load("  tokens:\n    - { library: /x.so }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("every token needs a tokenLabel or a slot");
  }

  @Test
  void inlinePinInATokenEntry_refusedWithoutQuotingIt() throws Exception {
    assertThatThrownBy(() -> load("  tokens:\n    - { tokenLabel: a, pin: \"98761234\" }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("an inline PIN is not accepted")
        .hasMessageNotContaining("98761234");
  }

  @Test
  void probeTimeout_defaultsToTheInterval_mayBeSet_mustBePositive() throws Exception {
    assertThat(load("  tokenLabel: one").hsm().probeTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(load("  tokenLabel: one\n  probeTimeout: 500ms").hsm().probeTimeout())
        .isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> load("  tokenLabel: one\n  probeTimeout: 0s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hsm.probeTimeout must be positive");
  }
}
