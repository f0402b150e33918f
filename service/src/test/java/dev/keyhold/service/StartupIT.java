package dev.keyhold.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.PinSource;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.setup.PkiDirectory;
import dev.keyhold.service.testing.KeyholdJvm;
import dev.keyhold.service.testing.TestHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up failures stop the service with one line that says what to fix and never the PIN:
 * in-process through {@link Pkcs11Token#open}, and through the real {@code keyhold serve} command
 * line in a child JVM (a wrong PIN can only be tested in a fresh process: PKCS#11 login state is
 * per process, and this JVM's token is already logged in).
 */
class StartupIT {
  private static final String WRONG_PIN = "wr0ngPIN-7351";
  private static TestHsm hsm;
  private static String realPin;

  @TempDir Path dir;

  @BeforeAll
  static void token() throws Exception {
    hsm = TestHsm.shared();
    realPin = new String(hsm.hsmConfig().pin().read());
  }

  private static HsmConfig hsmConfig(Path library, String label, PinSource pin) {
    HsmConfig b = hsm.hsmConfig();
    return new HsmConfig(library, label, null, pin, 2, 0, HsmConfig.DecryptMode.RAW, b.profile());
  }

  private static void assertOneClearLine(String message, String... mustContain) {
    assertThat(message).doesNotContain("\n").doesNotContain(realPin).doesNotContain(WRONG_PIN);
    for (String s : mustContain) {
      assertThat(message).contains(s);
    }
  }

  @Test
  void open_missingLibrary_namesThePathAndHowToFix() {
    Path missing = Path.of("/nonexistent/lib/libnohsm.so");

    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> Pkcs11Token.open(hsmConfig(missing, TestHsm.TOKEN_LABEL, hsm.hsmConfig().pin())));

    assertThat(e).isNotNull();
    assertOneClearLine(e.getMessage(), missing.toString(), "does not exist", "hsm.library");
  }

  @Test
  void open_unknownTokenLabel_namesTheLabelAndTheTokensPresent() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                Pkcs11Token.open(
                    hsmConfig(hsm.hsmConfig().library(), "no-such-token", hsm.hsmConfig().pin())));

    assertThat(e).isNotNull();
    assertOneClearLine(e.getMessage(), "no-such-token", TestHsm.TOKEN_LABEL, "hsm.tokenLabel");
  }

  @Test
  void open_unreadablePinFile_namesTheFileNotThePin() {
    Path missingPin = dir.resolve("missing.pin");

    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                Pkcs11Token.open(
                    hsmConfig(
                        hsm.hsmConfig().library(),
                        TestHsm.TOKEN_LABEL,
                        PinSource.ofFile(missingPin))));

    assertThat(e).isNotNull();
    assertOneClearLine(e.getMessage(), missingPin.toString());
  }

  @Test
  void serveCli_wrongPin_exitsWithOneLineSayingThePinIsWrong() throws Exception {
    Path pin = dir.resolve("wrong.pin");
    Files.writeString(pin, WRONG_PIN + "\n");

    Cli run = cli(config(hsm.hsmConfig().library(), TestHsm.TOKEN_LABEL, pin));

    assertThat(run.exitCode).as(run.output).isEqualTo(2);
    assertThat(run.keyholdLines())
        .as(run.output)
        .singleElement()
        .satisfies(line -> assertOneClearLine(line, "PIN", "wrong", pin.toString()));
    assertThat(run.output).doesNotContain(realPin).doesNotContain(WRONG_PIN);
  }

  @Test
  void serveCli_missingLibrary_exitsWithOneLineNamingTheLibrary() throws Exception {
    Path pin = dir.resolve("user.pin");
    Files.writeString(pin, realPin + "\n");

    Cli run = cli(config(Path.of("/nonexistent/libnohsm.so"), TestHsm.TOKEN_LABEL, pin));

    assertThat(run.exitCode).as(run.output).isEqualTo(2);
    assertThat(run.keyholdLines())
        .as(run.output)
        .singleElement()
        .satisfies(line -> assertOneClearLine(line, "/nonexistent/libnohsm.so", "hsm.library"));
    assertThat(run.output).doesNotContain(realPin);
  }

  private Path config(Path library, String label, Path pinFile) throws Exception {
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
          pin: { file: %s }
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
                library,
                label,
                pinFile,
                dir.resolve("audit.log"));
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  /** The result of one child-JVM run of the CLI. */
  private record Cli(int exitCode, String output) {
    List<String> keyholdLines() {
      return output.lines().filter(l -> l.startsWith("keyhold:")).toList();
    }
  }

  private Cli cli(Path config) throws Exception {
    List<String> cmd =
        KeyholdJvm.command(List.of("-Xmx256m"), "serve", "--config", config.toString());
    Path out = dir.resolve("cli.out");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().put("SOFTHSM2_CONF", hsm.softhsmConf().toString());
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
