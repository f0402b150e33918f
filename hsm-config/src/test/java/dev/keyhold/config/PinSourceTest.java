package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PIN from a file or a variable; messages name the source, never the PIN. */
class PinSourceTest {
  private static final String PIN = "s3cr3t-pin";
  @TempDir Path dir;

  @Test
  void new_bothOrNeitherSource_isRefused() {
    String msg = "hsm.pin: exactly one of file or env must be set (an inline PIN is not accepted)";
    assertThatThrownBy(() -> new PinSource(Path.of("p"), "X")).hasMessage(msg);
    assertThatThrownBy(() -> new PinSource(null, null)).hasMessage(msg);
    assertThatThrownBy(() -> new PinSource(null, " ")).hasMessage(msg);
  }

  @Test
  void read_file_dropsTrailingNewlinesOnly() throws Exception {
    Path f = Files.writeString(dir.resolve("user.pin"), " " + PIN + "\r\n\n");

    assertThat(PinSource.ofFile(f).read(Map.of())).isEqualTo((" " + PIN).toCharArray());
  }

  @Test
  void read_fileOfOnlyNewlines_isEmptyNamingTheFile() throws Exception {
    Path f = Files.writeString(dir.resolve("user.pin"), "\n");

    assertThatThrownBy(() -> PinSource.ofFile(f).read(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("PIN file " + f + " is empty");
  }

  @Test
  void read_missingFile_namesTheFileAndTheErrorClassOnly() {
    Path f = dir.resolve("missing.pin");

    assertThatThrownBy(() -> PinSource.ofFile(f).read(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("cannot read PIN file " + f + ": NoSuchFileException");
  }

  @Test
  void read_env_isTheValue_unsetOrEmptyIsRefusedWithoutAValue() {
    PinSource env = PinSource.ofEnv("KEYHOLD_TEST_PIN");

    assertThat(env.read(Map.of("KEYHOLD_TEST_PIN", PIN))).isEqualTo(PIN.toCharArray());
    assertThatThrownBy(() -> env.read(Map.of()))
        .hasMessage("environment variable KEYHOLD_TEST_PIN (the PIN source) is not set");
    assertThatThrownBy(() -> env.read(Map.of("KEYHOLD_TEST_PIN", "")))
        .hasMessage("environment variable KEYHOLD_TEST_PIN (the PIN source) is not set");
  }

  @Test
  void toString_namesTheSourceNeverThePin() throws Exception {
    Path f = Files.writeString(dir.resolve("user.pin"), PIN);

    assertThat(PinSource.ofFile(f)).hasToString("file:" + f);
    assertThat(PinSource.ofEnv("KEYHOLD_PIN")).hasToString("env:KEYHOLD_PIN");
    assertThat(PinSource.ofFile(f).toString()).doesNotContain(PIN);
  }
}
