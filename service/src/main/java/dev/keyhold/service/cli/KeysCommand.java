package dev.keyhold.service.cli;

import dev.keyhold.service.pkcs11.KeyProvisioner;
import dev.keyhold.service.pkcs11.KeyProvisioner.KeySpec;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.setup.PkiDirectory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keyhold keys}: the key lifecycle inside the HSM. Keys are generated or imported as token
 * objects that are sensitive and not extractable; no command prints or takes a PIN (it comes from
 * the configuration's {@code hsm.pin}).
 */
@Command(
    name = "keys",
    description = "Manage keys inside the HSM.",
    subcommands = {
      KeyGenerate.class,
      KeyImport.class,
      KeyList.class,
      KeyCsr.class,
      KeyCert.class,
      KeyCert.ImportCertAlias.class,
      KeyDelete.class,
      KeysCommand.Ensure.class,
      KeysCommand.Certify.class
    })
public final class KeysCommand {

  @Command(
      name = "ensure",
      description =
          "Create missing keys (sensitive, non-extractable) with placeholder certificates."
              + " Idempotent.")
  static final class Ensure implements Callable<Integer> {
    @Mixin HsmOptions hsm;
    @Spec CommandSpec spec;

    @Option(
        names = "--key",
        description = "NAME=rsa:BITS or NAME=ec:CURVE; default: rsa2048, rsa3072, ec-p256, ec-p384")
    List<String> keys;

    @Override
    public Integer call() {
      List<KeySpec> specs =
          keys == null ? KeyProvisioner.DEFAULT_KEYS : keys.stream().map(KeySpec::parse).toList();
      List<String> created = hsm.provisioner().ensure(specs);
      spec.commandLine()
          .getOut()
          .println(created.isEmpty() ? "all keys present" : "created " + created);
      return 0;
    }
  }

  @Command(
      name = "certify",
      description =
          "Replace placeholder certificates of HSM keys with certificates from the local CA (demo"
              + " set-up). Idempotent.")
  static final class Certify implements Callable<Integer> {
    @Mixin HsmOptions hsm;
    @Spec CommandSpec spec;

    @picocli.CommandLine.Option(
        names = "--usage",
        defaultValue = "server",
        description =
            "server, client or both: the extended key usage (client: an HSM-held client key for"
                + " mutual TLS)")
    String usage;

    @Option(names = "--pki", required = true, description = "the local PKI folder (see `pki init`)")
    Path pki;

    @Option(names = "--dns", split = ",", defaultValue = "localhost")
    List<String> dns;

    @Option(names = "--ip", split = ",", defaultValue = "127.0.0.1")
    List<String> ips;

    @Parameters(
        arity = "0..*",
        description = "key names; default: every key with a placeholder certificate")
    List<String> names;

    @Override
    public Integer call() throws Exception {
      LocalPki.Usage eku;
      try {
        eku = LocalPki.Usage.valueOf(usage.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--usage must be server, client or both: " + usage);
      }
      Pkcs11Token token = hsm.token();
      LocalPki ca = new PkiDirectory(pki).loadOrCreateCa();
      KeyProvisioner provisioner = new KeyProvisioner(token);
      for (var key : token.discoverKeys()) {
        var d = key.description();
        var leaf = d.chain().get(0);
        boolean placeholder = leaf.getSubjectX500Principal().equals(leaf.getIssuerX500Principal());
        if ((names == null || names.isEmpty()) ? !placeholder : !names.contains(d.name())) {
          continue;
        }
        var cert = ca.issueFor(d.name(), d.publicKey(), dns, ips, eku);
        provisioner.importChain(d.name(), List.of(cert, ca.caCertificate()));
        spec.commandLine()
            .getOut()
            .println(
                "certified "
                    + d.name()
                    + " by the local CA for "
                    + dns
                    + " "
                    + ips
                    + " ("
                    + eku.name().toLowerCase(java.util.Locale.ROOT)
                    + " use)");
      }
      return 0;
    }
  }
}
