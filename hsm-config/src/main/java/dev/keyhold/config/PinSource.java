package dev.keyhold.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Where a PIN comes from: a file or an environment variable, never a command line or a config
 * value.
 *
 * <p>Security note: {@link #toString()} names the source, never the PIN; {@link #read()} returns a
 * fresh array the caller should wipe after use. Errors name the source only.
 */
public record PinSource(Path file, String env) {

  public PinSource {
    if ((file == null) == (env == null || env.isBlank())) {
      throw new ConfigException(
          "hsm.pin: exactly one of file or env must be set (an inline PIN is not accepted)");
    }
  }

  public static PinSource ofFile(Path file) {
    return new PinSource(file, null);
  }

  public static PinSource ofEnv(String variable) {
    return new PinSource(null, variable);
  }

  /** Reads the PIN, without a trailing newline. */
  public char[] read() {
    return read(System.getenv());
  }

  char[] read(Map<String, String> environment) {
    if (file != null) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new ConfigException(
            "cannot read PIN file " + file + ": " + e.getClass().getSimpleName());
      }
      try {
        int end = bytes.length;
        while (end > 0 && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r')) {
          end--;
        }
        CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes, 0, end));
        char[] pin = Arrays.copyOfRange(chars.array(), chars.position(), chars.limit());
        Arrays.fill(chars.array(), '\0');
        if (pin.length == 0) {
          throw new ConfigException("PIN file " + file + " is empty");
        }
        return pin;
      } finally {
        Arrays.fill(bytes, (byte) 0);
      }
    }
    String value = environment.get(env);
    if (value == null || value.isEmpty()) {
      throw new ConfigException("environment variable " + env + " (the PIN source) is not set");
    }
    return value.toCharArray();
  }

  @Override
  public String toString() {
    return file != null ? "file:" + file : "env:" + env;
  }
}
