package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Broken configurations and the one line each produces: the file, the field, its line or the
 * variable that set it, and what is expected. Also the environment overrides and {@code check}.
 */
class BrokenConfigTest {
  static final String VALID =
      """
      listen: 127.0.0.1:9443
      tls:
        certChain: server.pem
        privateKey: server.key
        clientCa: ca.pem
      hsm:
        library: lib.so
        tokenLabel: keyhold
        pin: { file: user.pin }
        sessions: 3
      keys:
        expiryWarningDays: 14
      policy:
        - client: demo-app
          keys: ["*"]
          operations: [sign]
      """;

  @TempDir Path dir;

  static Stream<Arguments> broken() {
    return Stream.of(
        row("sessions: 3", "sesions: 3", "(line 10)", "unknown field 'hsm.sesions'", "library,"),
        row("listen: 127.0.0.1:9443", "listn: x:1", "(line 1)", "unknown field 'listn'"),
        row(
            "sessions: 3",
            "sessions: four",
            "(line 10)",
            "hsm.sessions: expected a whole number, got 'four'"),
        row(
            "sessions: 3",
            "decryptMode: rsa",
            "(line 10)",
            "hsm.decryptMode: expected one of raw, pkcs1, got 'rsa'"),
        row(
            "listen: 127.0.0.1:9443",
            "maxConnectionAge: soon",
            "(line 1)",
            "maxConnectionAge",
            "soon"),
        row("listen: 127.0.0.1:9443", "listen: nowhere", "listen: 'nowhere' is not host:port"),
        row("listen: 127.0.0.1:9443", "listen: 127.0.0.1:99999", "port 99999 is out of range"),
        row(
            "  library: lib.so\n",
            "  profile: generic\n",
            "hsm.library is required",
            "profile generic has no default"),
        row("sessions: 3", "profile: thales", "hsm.profile 'thales' is unknown (known: softhsm2,"),
        row("pin: { file: user.pin }", "pin: { file: a, env: B }", "exactly one of file or env"),
        row("operations: [sign]", "operations: [sing]", "unknown operation 'sing'"),
        row("operations: [sign]", "operations: [sign]\n    extra: 1", "policy[0].extra"),
        row(
            "expiryWarningDays: 14",
            "expiryWarningDays: -1",
            "keys.expiryWarningDays must be >= 0"),
        row("tls:", "tls: yes\nx:", "tls"),
        row("listen: 127.0.0.1:9443", "listen: [unclosed", "malformed YAML"));
  }

  private static Arguments row(String from, String to, String... expected) {
    return Arguments.of(from, to, List.of(expected));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @MethodSource("broken")
  void load_brokenConfig_namesFileFieldAndExpectation(String from, String to, List<String> want)
      throws Exception {
    assertThat(VALID).contains(from);
    Path f = write(VALID.replace(from, to));
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(f))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("config " + f)
        .satisfies(e -> assertThat(e.getMessage()).contains(want).doesNotContain("\n"));
  }

  @Test
  void load_environment_overridesTheFile() throws Exception {
    Map<String, String> env =
        Map.of(
            "KEYHOLD_LISTEN", "0.0.0.0:7000",
            "KEYHOLD_HSM_LIBRARY", "/opt/vendor/p11.so",
            "KEYHOLD_HSM_TOKENLABEL", "other",
            "KEYHOLD_HSM_SESSIONS", "7",
            "KEYHOLD_HSM_DECRYPTMODE", "pkcs1",
            "KEYHOLD_HSM_PIN_ENV", "MY_PIN",
            "KEYHOLD_METRICS_LISTEN", "127.0.0.1:9999",
            "KEYHOLD_MAXCONNECTIONAGE", "5m",
            "KEYHOLD_KEYS_EXPIRYWARNINGDAYS", "60");
    ServiceConfig c = new ConfigLoader(env).load(write(VALID));
    assertThat(c.listen()).isEqualTo("0.0.0.0:7000");
    assertThat(c.hsm().library()).isEqualTo(Path.of("/opt/vendor/p11.so"));
    assertThat(c.hsm().tokenLabel()).isEqualTo("other");
    assertThat(c.hsm().sessions()).isEqualTo(7);
    assertThat(c.hsm().decryptMode()).isEqualTo(HsmConfig.DecryptMode.PKCS1);
    assertThat(c.hsm().pin()).isEqualTo(PinSource.ofEnv("MY_PIN"));
    assertThat(c.metricsListen()).isEqualTo("127.0.0.1:9999");
    assertThat(c.maxConnectionAge()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.expiryWarningDays()).isEqualTo(60);
  }

  @Test
  void load_badEnvironmentValue_namesTheVariable() throws Exception {
    Path f = write(VALID);
    assertThatThrownBy(() -> new ConfigLoader(Map.of("KEYHOLD_HSM_QUEUE", "lots")).load(f))
        .hasMessageContaining("hsm.queue from KEYHOLD_HSM_QUEUE")
        .hasMessageContaining("expected a whole number, got 'lots'");
  }

  @Test
  void load_environmentOnly_fillsAMissingField() throws Exception {
    Path f = write(VALID.replace("  library: lib.so\n", ""));
    ServiceConfig c = new ConfigLoader(Map.of("KEYHOLD_HSM_LIBRARY", "/x.so")).load(f);
    assertThat(c.hsm().library()).isEqualTo(Path.of("/x.so"));
    assertThat(c.expiryWarningDays()).isEqualTo(14);
  }

  @Test
  void check_reportsEveryProblemOnItsOwnLine() throws Exception {
    Path f = write(VALID.replace("sessions: 3", "sesions: 3\n  sloth: 1"));
    assertThat(new ConfigLoader(Map.of()).check(f))
        .hasSize(2)
        .anySatisfy(p -> assertThat(p).contains("hsm.sesions"))
        .anySatisfy(p -> assertThat(p).contains("hsm.sloth"));
  }

  @Test
  void check_missingFilesAndPinVariable_areProblems() throws Exception {
    Path f = write(VALID.replace("pin: { file: user.pin }", "pin: { env: NO_SUCH_PIN_VAR }"));
    List<String> problems = new ConfigLoader(Map.of()).check(f);
    assertThat(problems)
        .anySatisfy(p -> assertThat(p).contains("tls.certChain").contains("does not exist"))
        .anySatisfy(p -> assertThat(p).contains("hsm.library"))
        .anySatisfy(p -> assertThat(p).contains("NO_SUCH_PIN_VAR is not set"));
    for (String name : List.of("server.pem", "server.key", "ca.pem", "lib.so")) {
      Files.writeString(dir.resolve(name), "x");
    }
    assertThat(new ConfigLoader(Map.of("NO_SUCH_PIN_VAR", "1234")).check(f)).isEmpty();
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    "server.pem, tls.certChain",
    "server.key, tls.privateKey",
    "ca.pem, tls.clientCa",
    "lib.so, hsm.library",
    "user.pin, hsm.pin.file",
  })
  void check_eachMissingFile_isOneProblemNamingItsField(String missing, String field)
      throws Exception {
    Path f = write(VALID);
    for (String name : List.of("server.pem", "server.key", "ca.pem", "lib.so", "user.pin")) {
      if (!name.equals(missing)) {
        Files.writeString(dir.resolve(name), "x");
      }
    }

    assertThat(new ConfigLoader(Map.of()).check(f))
        .containsExactly(
            "config "
                + f
                + ": "
                + field
                + ": "
                + dir.resolve(missing)
                + " does not exist or is not a file");
  }

  @Test
  void load_unknownFieldInAListItemOrSection_namesItsPathAndLine() throws Exception {
    Path item = write(VALID.replace("  - client: demo-app", "  - client: demo-app\n    clent: x"));
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(item))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("config " + item + " (line 15): unknown field 'policy[0].clent'")
        .hasMessageContaining("(known in policy[0]: ");
    Path section =
        write(VALID.replace("  expiryWarningDays: 14", "  expiryWarningDays: 14\n  sloth: 1"));
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(section))
        .hasMessageStartingWith("config " + section + " (line 13): unknown field 'keys.sloth'")
        .hasMessageContaining("(known in keys: ");
  }

  @Test
  void load_listItemWithABadValue_namesTheItemsFirstLine() throws Exception {
    Path f = write(VALID.replace("operations: [sign]", "operations: [sign, encrypt]"));
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(f))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("config " + f + " (line 14): ")
        .hasMessageContaining("encrypt");
  }

  @Test
  void load_pinEnvNotAName_neverShowsWhatWasWritten() throws Exception {
    Path f = write(VALID.replace("pin: { file: user.pin }", "pin: { env: [s3cr3t] }"));
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(f))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hsm.pin must be {file: PATH} or {env: VARIABLE}")
        .hasMessageNotContaining("s3cr3t");
  }

  @Test
  void envName_followsTheDocumentedRule() {
    assertThat(ConfigSchema.envName("hsm.tokenLabel")).isEqualTo("KEYHOLD_HSM_TOKENLABEL");
    assertThat(ConfigSchema.scalars().stream().map(ConfigSchema.Field::path))
        .contains("listen", "hsm.library", "hsm.pin.file", "keys.expiryWarningDays")
        .doesNotContain("policy");
  }

  private Path write(String yaml) throws Exception {
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);
    return f;
  }
}
