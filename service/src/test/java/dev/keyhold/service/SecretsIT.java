package dev.keyhold.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.setup.PkiDirectory;
import dev.keyhold.service.testing.KeyholdJvm;
import dev.keyhold.service.testing.TestHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every configuration and PIN error path of {@code keyhold serve}, run out of process: the run
 * fails with one {@code keyhold:} line that names the source, and neither the PIN written in the
 * file nor the token's real PIN appears anywhere in its stdout, stderr or log output (logback
 * writes to the console, which is captured).
 */
class SecretsIT {
  /** A PIN value distinctive enough that finding it anywhere in the output is a leak. */
  private static final String SECRET = "s3cretPIN-90417";

  private static TestHsm hsm;
  private static String realPin;

  @TempDir Path dir;

  @BeforeAll
  static void token() throws Exception {
    hsm = TestHsm.shared();
    realPin = new String(hsm.hsmConfig().pin().read());
  }

  @Test
  void serve_inlinePin_isRefusedWithoutEchoingIt() throws Exception {
    Cli run = cli(config("\"" + SECRET + "\""), Map.of());

    assertFailsWithoutSecret(run, "hsm.pin");
  }

  @Test
  void serve_inlinePinAsNumber_isRefusedWithoutEchoingIt() throws Exception {
    Cli run = cli(config("90417"), Map.of());

    assertFailsWithoutSecret(run, "hsm.pin");
    assertThat(run.output).doesNotContain("90417");
  }

  @Test
  void serve_pinMappingWithAnUnknownField_isRefusedWithoutEchoingIt() throws Exception {
    Cli run = cli(config("{ value: \"" + SECRET + "\" }"), Map.of());

    assertFailsWithoutSecret(run, "hsm.pin");
  }

  @Test
  void serve_wrongPinInFile_namesTheFileNotThePin() throws Exception {
    Path pin = dir.resolve("wrong.pin");
    Files.writeString(pin, SECRET + "\n");

    assertFailsWithoutSecret(cli(config("{ file: " + pin + " }"), Map.of()), pin.toString());
  }

  @Test
  void serve_missingPinFile_namesTheFile() throws Exception {
    Path pin = dir.resolve("missing.pin");

    assertFailsWithoutSecret(cli(config("{ file: " + pin + " }"), Map.of()), pin.toString());
  }

  @Test
  void serve_unreadablePinFile_namesTheFile() throws Exception {
    // A directory where the file should be: unreadable as a file even for root, which chmod 000
    // is not.
    Path pin = Files.createDirectory(dir.resolve("pin-dir"));

    assertFailsWithoutSecret(cli(config("{ file: " + pin + " }"), Map.of()), pin.toString());
  }

  @Test
  void serve_emptyPinFile_namesTheFile() throws Exception {
    Path pin = Files.writeString(dir.resolve("empty.pin"), "\n");

    assertFailsWithoutSecret(cli(config("{ file: " + pin + " }"), Map.of()), pin.toString());
  }

  @Test
  void serve_emptyPinEnvironmentVariable_namesTheVariable() throws Exception {
    Cli run = cli(config("{ env: KEYHOLD_TEST_PIN }"), Map.of("KEYHOLD_TEST_PIN", ""));

    assertFailsWithoutSecret(run, "KEYHOLD_TEST_PIN");
  }

  @Test
  void serve_unsetPinEnvironmentVariable_namesTheVariable() throws Exception {
    Cli run = cli(config("{ env: KEYHOLD_UNSET_PIN }"), Map.of());

    assertFailsWithoutSecret(run, "KEYHOLD_UNSET_PIN");
  }

  @Test
  void serve_wrongPinInEnvironment_namesTheVariableNotThePin() throws Exception {
    Cli run = cli(config("{ env: KEYHOLD_TEST_PIN }"), Map.of("KEYHOLD_TEST_PIN", SECRET));

    assertFailsWithoutSecret(run, "KEYHOLD_TEST_PIN");
  }

  @Test
  void serve_otherConfigErrorWithAPinFile_doesNotEchoThePin() throws Exception {
    Path pin = Files.writeString(dir.resolve("user.pin"), realPin + "\n");
    Path f = config("{ file: " + pin + " }");
    Files.writeString(f, Files.readString(f).replace("sessions: 2", "sessions: many"));

    assertFailsWithoutSecret(cli(f, Map.of()), "line 10");
  }

  private static void assertFailsWithoutSecret(Cli run, String mustName) {
    assertThat(run.exitCode).as(run.output).isEqualTo(2);
    assertThat(run.output.lines().filter(l -> l.startsWith("keyhold:")).toList())
        .as(run.output)
        .singleElement()
        .satisfies(line -> assertThat(line).contains(mustName));
    assertThat(run.output).doesNotContain(SECRET).doesNotContain(realPin);
  }

  private Path config(String pinYaml) throws Exception {
    PkiDirectory pki = hsm.pki();
    String yaml =
        """
        listen: 127.0.0.1:0
        tls:
          certChain: %s
          privateKey: %s
          clientCa: %s
        hsm:
          library: %s
          tokenLabel: %s
          pin: %s
          sessions: 2
        audit:
          file: %s
        policy:
          - client: test-client
            keys: ["*"]
            operations: [sign]
        """
            .formatted(
                pki.cert("server"),
                pki.key("server"),
                pki.caCert(),
                hsm.hsmConfig().library(),
                TestHsm.TOKEN_LABEL,
                pinYaml,
                dir.resolve("audit.log"));
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private record Cli(int exitCode, String output) {}

  private Cli cli(Path config, Map<String, String> env) throws Exception {
    List<String> cmd =
        KeyholdJvm.command(List.of("-Xmx256m"), "serve", "--config", config.toString());
    Path out = dir.resolve("cli.out");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().put("SOFTHSM2_CONF", hsm.softhsmConf().toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError(
            "keyhold serve did not stop: " + Files.readString(out, StandardCharsets.UTF_8));
      }
      return new Cli(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
