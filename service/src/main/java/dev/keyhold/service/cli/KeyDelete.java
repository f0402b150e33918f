package dev.keyhold.service.cli;

import java.io.Console;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keys delete}: destroys a key and its certificate. Asks on the terminal for the label;
 * scripts pass {@code --yes}; without a terminal and without {@code --yes} it refuses.
 */
@Command(name = "delete", description = "Delete a key and its certificate from the HSM.")
final class KeyDelete implements Callable<Integer> {
  @Mixin HsmOptions hsm;
  @Spec CommandSpec spec;

  @Option(names = "--label", required = true, description = "the key to delete")
  String label;

  @Option(names = "--yes", description = "do not ask (for scripts)")
  boolean yes;

  @Override
  public Integer call() throws Exception {
    if (!yes) {
      Console console = System.console();
      if (console == null) {
        spec.commandLine()
            .getErr()
            .println(
                "keyhold: refusing to delete key '"
                    + label
                    + "': there is no terminal to confirm on; pass --yes in scripts");
        return 1;
      }
      String typed =
          console.readLine(
              "Delete key '%s' from %s? This cannot be undone. Type the label to confirm: ",
              label, hsm.config().hsm().describeToken());
      if (typed == null || !typed.strip().equals(label)) {
        spec.commandLine().getErr().println("keyhold: not confirmed; key '" + label + "' kept");
        return 1;
      }
    }
    hsm.provisioner().delete(label);
    spec.commandLine()
        .getOut()
        .println("deleted " + label + " from " + hsm.config().hsm().describeToken());
    return 0;
  }
}
