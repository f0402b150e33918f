package dev.keyhold.bench.ops;

import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The native ceiling: {@code openssl speed -mr -elapsed -seconds N -multi M ALG}, parsed from the
 * machine-readable result line of each of the M processes, so that the operations and seconds are
 * the ones measured, not a rate times the requested duration. A private RSA operation costs the
 * same for signing and for decrypting, so one number serves both.
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

  /**
   * What one {@code openssl speed} run measured, summed over its processes.
   *
   * @param processes the {@code -multi} value (1 without it)
   * @param ops private-key operations counted by the processes ({@code +R1}/{@code +R5} counts)
   * @param seconds the longest process's measured time (wall time, since the run uses {@code
   *     -elapsed})
   * @param opsPerSecond the sum over processes of their own count / time
   */
  public record Result(int processes, long ops, double seconds, double opsPerSecond) {}

  /**
   * The command: {@code -elapsed} so that times are wall clock like every other mode's (openssl's
   * default is the process's user CPU time, which flatters it on a loaded machine), {@code -multi}
   * only above 1.
   */
  static List<String> command(String algorithm, int seconds, int processes) {
    List<String> cmd = new ArrayList<>(List.of("openssl", "speed", "-mr", "-elapsed"));
    cmd.addAll(List.of("-seconds", Integer.toString(seconds)));
    if (processes > 1) {
      cmd.addAll(List.of("-multi", Integer.toString(processes)));
    }
    cmd.add(algorithm);
    return cmd;
  }

  /** Runs openssl speed; empty when it fails or prints nothing parseable. */
  public static Optional<Result> run(String algorithm, int seconds, int processes)
      throws InterruptedException {
    try {
      Process p =
          new ProcessBuilder(command(algorithm, seconds, processes))
              .redirectErrorStream(true)
              .start();
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      // openssl speed runs sign and verify for N seconds each: give it the time plus slack, then
      // stop it.
      if (!p.waitFor(seconds * 3L + 30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return parse(out, processes);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The private-key lines each process prints, {@code +R1:COUNT:BITS:SECONDS} (RSA) or {@code
   * +R5:COUNT:BITS:SECONDS} (ECDSA); a parent's forwarded summaries ({@code Got: ...}, {@code +F})
   * are not counted again. Empty unless exactly {@code processes} such lines are present.
   */
  static Optional<Result> parse(String output, int processes) {
    long ops = 0;
    double seconds = 0;
    double rate = 0;
    int lines = 0;
    for (String line : output.split("\n")) {
      String l = line.trim();
      if (!l.startsWith("+R1:") && !l.startsWith("+R5:")) {
        continue;
      }
      String[] f = l.split(":");
      if (f.length < 4) {
        continue;
      }
      try {
        long count = Long.parseLong(f[1]);
        double t = Double.parseDouble(f[3]);
        if (t <= 0) {
          continue;
        }
        ops += count;
        seconds = Math.max(seconds, t);
        rate += count / t;
        lines++;
      } catch (NumberFormatException e) {
        // not a result line; keep looking
      }
    }
    if (lines != processes) {
      return Optional.empty();
    }
    return Optional.of(new Result(processes, ops, seconds, Math.round(rate * 10) / 10.0));
  }
}
