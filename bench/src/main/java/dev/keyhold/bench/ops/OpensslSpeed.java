package dev.keyhold.bench.ops;

import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;

/**
 * The native ceiling: {@code openssl speed -mr -seconds N -multi M ALG}, parsed from its
 * machine-readable summary line ({@code +F2:...} for RSA, {@code +F4:...} for ECDSA, whose fourth
 * field is private-key operations per second summed over the M processes). A private RSA operation
 * costs the same for signing and for decrypting, so one number serves both.
 */
public final class OpensslSpeed {
  private OpensslSpeed() {}

  /** The {@code openssl speed} algorithm for a key, if openssl has one for it. */
  public static Optional<String> algorithm(KeyInfo key) {
    if (key.getKeyType() == KeyType.KEY_TYPE_RSA) {
      return List.of(1024, 2048, 3072, 4096, 7680, 15360).contains(key.getKeyBits())
          ? Optional.of("rsa" + key.getKeyBits())
          : Optional.empty();
    }
    return switch (key.getCurve()) {
      case "secp256r1" -> Optional.of("ecdsap256");
      case "secp384r1" -> Optional.of("ecdsap384");
      case "secp521r1" -> Optional.of("ecdsap521");
      default -> Optional.empty();
    };
  }

  /** Whether an {@code openssl} binary runs here. */
  public static boolean present() {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs openssl speed; empty when it fails or prints nothing parseable. */
  public static OptionalDouble run(String algorithm, int seconds, int processes)
      throws InterruptedException {
    List<String> cmd =
        processes > 1
            ? List.of(
                "openssl",
                "speed",
                "-mr",
                "-seconds",
                Integer.toString(seconds),
                "-multi",
                Integer.toString(processes),
                algorithm)
            : List.of("openssl", "speed", "-mr", "-seconds", Integer.toString(seconds), algorithm);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      // openssl speed runs sign and verify for N seconds each: give it the time plus slack, then
      // stop it.
      if (!p.waitFor(seconds * 3L + 30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return OptionalDouble.empty();
      }
      return parse(out);
    } catch (IOException e) {
      return OptionalDouble.empty();
    }
  }

  /** Private-key operations per second from the last {@code +F2:} or {@code +F4:} line. */
  static OptionalDouble parse(String output) {
    OptionalDouble result = OptionalDouble.empty();
    for (String line : output.split("\n")) {
      String l = line.trim();
      if (l.startsWith("+F2:") || l.startsWith("+F4:")) {
        String[] f = l.split(":");
        if (f.length >= 5) {
          try {
            result = OptionalDouble.of(Double.parseDouble(f[3]));
          } catch (NumberFormatException e) {
            // not the summary line we expect; keep looking
          }
        }
      }
    }
    return result;
  }
}
