package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigException;
import dev.keyhold.service.setup.PkiDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keys cert import}: replaces a key's certificate chain, refusing one for another key. */
@Command(
    name = "cert",
    description = "A key's certificate chain.",
    subcommands = {KeyCert.Import.class})
final class KeyCert {

  /** Reads and imports a chain for {@code key}; shared by {@code cert import} and the alias. */
  static void importChain(HsmOptions hsm, CommandSpec spec, String key, Path chainFile)
      throws Exception {
    if (!Files.isRegularFile(chainFile)) {
      throw new ConfigException("--chain " + chainFile + " does not exist");
    }
    List<X509Certificate> chain = PkiDirectory.readCertificates(chainFile);
    if (chain.isEmpty()) {
      throw new ConfigException("--chain " + chainFile + " holds no PEM certificate");
    }
    hsm.provisioner().importChain(key, chain);
    spec.commandLine()
        .getOut()
        .println(
            "imported the chain of "
                + key
                + " ("
                + chain.get(0).getSubjectX500Principal()
                + ", "
                + chain.size()
                + " certificate"
                + (chain.size() == 1 ? "" : "s")
                + ")");
  }

  @Command(
      name = "import",
      description =
          "Replace a key's certificate chain (PEM, leaf first); the leaf must be the key's.")
  static final class Import implements Callable<Integer> {
    @Mixin HsmOptions hsm;
    @Spec CommandSpec spec;

    @Option(names = "--label", required = true, description = "the key")
    String label;

    @Option(names = "--chain", required = true, description = "PEM chain, leaf first")
    Path chain;

    @Override
    public Integer call() throws Exception {
      importChain(hsm, spec, label, chain);
      return 0;
    }
  }

  /** The older spelling, {@code keys import-cert NAME --chain FILE}. */
  @Command(name = "import-cert", description = "Same as `keys cert import`.")
  static final class ImportCertAlias implements Callable<Integer> {
    @Mixin HsmOptions hsm;
    @Spec CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "NAME")
    String name;

    @Option(names = "--label")
    String label;

    @Option(names = "--chain", required = true, description = "PEM chain, leaf first")
    Path chain;

    @Override
    public Integer call() throws Exception {
      importChain(hsm, spec, Labels.either(name, label), chain);
      return 0;
    }
  }
}
