package dev.keyhold.bench;

import dev.keyhold.bench.ops.KeyholdTarget.TargetException;
import dev.keyhold.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code keyhold-bench} command line: {@code ops} (Sign/DecryptPremaster per second against
 * baselines) and {@code handshakes} (full TLS handshakes per second by where the server key lives).
 * Exit codes: 0 done, 1 failed while measuring, 2 cannot start (bad options, target unreachable,
 * key unknown).
 */
@Command(
    name = "keyhold-bench",
    mixinStandardHelpOptions = true,
    versionProvider = BenchMain.Version.class,
    description =
        "Keyhold load generator: operations and TLS handshakes per second, with baselines measured"
            + " in the same run.",
    subcommands = {
      OpsCommand.class,
      HandshakesCommand.class,
      SummaryCommand.class,
      TimingCommand.class,
      SoakCommand.class
    })
public final class BenchMain {
  static String[] args = new String[0];

  public static void main(String[] argv) {
    System.exit(run(argv));
  }

  /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... argv) {
    args = argv.clone();
    CommandLine cl = new CommandLine(new BenchMain());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof TargetException
              || ex instanceof ConfigException
              || ex instanceof IllegalArgumentException) {
            cmd.getErr().println("keyhold-bench: " + ex.getMessage());
            return 2;
          }
          cmd.getErr()
              .println("keyhold-bench: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
          ex.printStackTrace(cmd.getErr());
          return 1;
        });
    return cl.execute(argv);
  }

  /** Version from the build. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "keyhold-bench " + dev.keyhold.bench.report.Environment.benchProperty("bench.version")
      };
    }
  }
}
