package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigLoader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyhold config}: configuration tools. */
@Command(
    name = "config",
    description = "Configuration tools.",
    subcommands = {ConfigCommand.Check.class})
public final class ConfigCommand {

  /** {@code keyhold config check FILE}: every problem, one line each, without starting. */
  @Command(
      name = "check",
      description =
          "Validate a configuration file (with KEYHOLD_* overrides from the environment) without"
              + " starting the service or opening the token. Exit 0 if usable, 1 otherwise.")
  static final class Check implements Callable<Integer> {
    private final CliContext context;

    @Spec CommandSpec spec;

    @Parameters(index = "0", description = "the YAML configuration file")
    Path file;

    Check(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      List<String> problems = new ConfigLoader(context.environment()).check(file);
      PrintWriter out = spec.commandLine().getOut();
      if (problems.isEmpty()) {
        out.println("config " + file + ": ok");
        return 0;
      }
      PrintWriter err = spec.commandLine().getErr();
      problems.forEach(err::println);
      return 1;
    }
  }
}
