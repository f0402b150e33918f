package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final String VALID =
      """
      listen: 127.0.0.1:9443
      maxConnectionAge: 10m
      tls:
        certChain: pki/server.pem
        privateKey: pki/server.key
        clientCa: pki/ca.pem
      hsm:
        library: /usr/lib/softhsm/libsofthsm2.so
        tokenLabel: keyhold
        pin: { file: pins/user.pin }
        sessions: 3
        decryptMode: raw
      audit:
        file: var/audit.log
      policy:
        - client: demo-app
          keys: ["*"]
          operations: [sign, decrypt_premaster]
      """;

  @TempDir Path dir;

  private Path write(String yaml) throws Exception {
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void load_validFile_resolvesRelativePathsAgainstItsFolder() throws Exception {
    ServiceConfig c = new ConfigLoader().load(write(VALID));
    assertThat(c.listenAddress()).isEqualTo(new ServiceConfig.HostPort("127.0.0.1", 9443));
    assertThat(c.tls().certChain()).isEqualTo(dir.resolve("pki/server.pem"));
    assertThat(c.hsm().pin().file()).isEqualTo(dir.resolve("pins/user.pin"));
    assertThat(c.hsm().library()).isEqualTo(Path.of("/usr/lib/softhsm/libsofthsm2.so"));
    assertThat(c.hsm().sessions()).isEqualTo(3);
    assertThat(c.hsm().decryptMode()).isEqualTo(HsmConfig.DecryptMode.RAW);
    assertThat(c.audit()).isEqualTo(dir.resolve("var/audit.log"));
    assertThat(c.maxConnectionAge()).isEqualTo(Duration.ofMinutes(10));
    assertThat(c.policy())
        .singleElement()
        .satisfies(r -> assertThat(r.operations()).contains("sign"));
  }

  @Test
  void load_verifySignatures_defaultsToAll_andParsesRsa() throws Exception {
    assertThat(new ConfigLoader().load(write(VALID)).hsm().verifySignatures())
        .isEqualTo(HsmConfig.VerifyMode.ALL);
    String rsa = VALID.replace("decryptMode: raw", "decryptMode: raw\n  verifySignatures: rsa");
    assertThat(new ConfigLoader().load(write(rsa)).hsm().verifySignatures())
        .isEqualTo(HsmConfig.VerifyMode.RSA);
    String all = VALID.replace("decryptMode: raw", "decryptMode: raw\n  verifySignatures: all");
    assertThat(new ConfigLoader().load(write(all)).hsm().verifySignatures())
        .isEqualTo(HsmConfig.VerifyMode.ALL);
    String bad = VALID.replace("decryptMode: raw", "decryptMode: raw\n  verifySignatures: none");
    assertThatThrownBy(() -> new ConfigLoader().load(write(bad)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("none");
  }

  @Test
  void load_unknownField_namesItAndTheLine() throws Exception {
    assertThatThrownBy(
            () -> new ConfigLoader().load(write(VALID.replace("sessions: 3", "sesions: 3"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sesions")
        .hasMessageContaining("line");
  }

  @Test
  void load_missingTls_saysMtlsIsRequired() throws Exception {
    String yaml = VALID.replaceAll("(?s)tls:.*?clientCa: pki/ca.pem\n", "");
    assertThatThrownBy(() -> new ConfigLoader().load(write(yaml)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("mTLS");
  }

  @Test
  void load_unknownOperation_isRejected() throws Exception {
    assertThatThrownBy(
            () -> new ConfigLoader().load(write(VALID.replace("decrypt_premaster]", "decrypt]"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown operation 'decrypt'");
  }

  @Test
  void load_malformedYaml_isAClearError() throws Exception {
    assertThatThrownBy(() -> new ConfigLoader().load(write("listen: [unclosed")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("keyhold.yaml");
  }

  @Test
  void load_missingFile_saysSo() {
    assertThatThrownBy(() -> new ConfigLoader().load(dir.resolve("nope.yaml")))
        .hasMessageContaining("does not exist");
  }

  @Test
  void parseDuration_units() {
    assertThat(ConfigLoader.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(ConfigLoader.parseDuration("2h")).isEqualTo(Duration.ofHours(2));
    assertThatThrownBy(() -> ConfigLoader.parseDuration("soon"))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void pinSource_fileAndEnv_readWithoutRevealingThePin() throws Exception {
    Path pinFile = dir.resolve("pin");
    Files.writeString(pinFile, "s3cret-pin\n");
    PinSource file = PinSource.ofFile(pinFile);
    assertThat(file.read()).containsExactly("s3cret-pin".toCharArray());
    assertThat(file.toString()).doesNotContain("s3cret");
    PinSource env = PinSource.ofEnv("KH_PIN");
    assertThat(env.read(Map.of("KH_PIN", "1234"))).containsExactly('1', '2', '3', '4');
    assertThatThrownBy(() -> env.read(Map.of()))
        .hasMessageContaining("KH_PIN")
        .hasMessageNotContaining("1234");
  }

  @Test
  void sunPkcs11Profile_usesSlotIdAndSensitiveTemplates() {
    HsmConfig hsm =
        new HsmConfig(Path.of("/lib/p11.so"), "t", null, PinSource.ofEnv("X"), 2, 0, null, null);
    String cfg = SunPkcs11Profile.render(hsm, 1234L, "KH");
    assertThat(cfg)
        .contains("slot = 1234")
        .doesNotContain("slotListIndex")
        .contains("CKA_SENSITIVE = true")
        .contains("CKA_EXTRACTABLE = false");
  }

  @Test
  void expected_saysWhatEachTypeTakes() {
    assertThat(ConfigLoader.expected(int.class)).isEqualTo("a whole number");
    assertThat(ConfigLoader.expected(Integer.class)).isEqualTo("a whole number");
    assertThat(ConfigLoader.expected(long.class)).isEqualTo("a whole number");
    assertThat(ConfigLoader.expected(Long.class)).isEqualTo("a whole number");
    assertThat(ConfigLoader.expected(boolean.class)).isEqualTo("true or false");
    assertThat(ConfigLoader.expected(Boolean.class)).isEqualTo("true or false");
    assertThat(ConfigLoader.expected(HsmConfig.DecryptMode.class)).isEqualTo("one of raw, pkcs1");
    assertThat(ConfigLoader.expected(Duration.class))
        .isEqualTo("a duration such as 500ms, 30s, 5m or 1h");
    assertThat(ConfigLoader.expected(Path.class)).isEqualTo("a file path");
    assertThat(ConfigLoader.expected(String.class)).isEqualTo("a single value");
    assertThat(ConfigLoader.expected(java.util.List.class)).isEqualTo("a list");
    assertThat(ConfigLoader.expected(java.util.Set.class)).isEqualTo("a list");
    assertThat(ConfigLoader.expected(ServiceConfig.class))
        .isEqualTo("a section of key: value lines");
  }

  @Test
  void load_sectionOrListWhereAValueBelongs_saysWhatWasWritten() throws Exception {
    assertThatThrownBy(
            () ->
                new ConfigLoader()
                    .load(write(VALID.replace("tokenLabel: keyhold", "tokenLabel: {a: b}"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("(line 9)")
        .hasMessageContaining("hsm.tokenLabel: expected a single value, got a section");
    assertThatThrownBy(
            () ->
                new ConfigLoader()
                    .load(write(VALID.replace("tokenLabel: keyhold", "tokenLabel: [a, b]"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hsm.tokenLabel: expected a single value, got a list");
  }
}
