package dev.keyhold.service.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keys csr}: a PEM certificate signing request, signed inside the HSM. */
@Command(name = "csr", description = "Print a PEM CSR for a key, signed inside the HSM.")
final class KeyCsr implements Callable<Integer> {
  @Mixin HsmOptions hsm;
  @Spec CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "NAME", description = "the key (older form of --label)")
  String name;

  @Option(names = "--label", description = "the key")
  String label;

  @Option(names = "--subject", required = true, description = "e.g. CN=www.example.com,O=Example")
  String subject;

  @Option(
      names = "--san",
      split = ",",
      description = "subject alternative names: DNS:name, IP:address, URI:uri, EMAIL:address")
  List<String> sans;

  @Override
  public Integer call() throws Exception {
    String key = Labels.either(name, label);
    spec.commandLine()
        .getOut()
        .print(hsm.provisioner().csr(key, subject, sans == null ? List.of() : sans));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
