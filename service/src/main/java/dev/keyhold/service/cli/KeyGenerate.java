package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigException;
import dev.keyhold.service.pkcs11.KeyProvisioner.KeySpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keys generate}: a new key pair generated inside the HSM, never extractable. */
@Command(
    name = "generate",
    description =
        "Generate a key pair inside the HSM (sensitive, not extractable) with a self-signed"
            + " placeholder certificate; replace it with `keys csr` and `keys cert import`.")
final class KeyGenerate implements Callable<Integer> {
  /** The types the command offers, and the algorithm the provisioner knows them by. */
  static final Map<String, String> TYPES = new LinkedHashMap<>();

  static {
    TYPES.put("rsa:2048", "rsa:2048");
    TYPES.put("rsa:3072", "rsa:3072");
    TYPES.put("rsa:4096", "rsa:4096");
    TYPES.put("ec:p256", "ec:secp256r1");
    TYPES.put("ec:p384", "ec:secp384r1");
    TYPES.put("ec:p521", "ec:secp521r1");
  }

  @Mixin HsmOptions hsm;
  @Spec CommandSpec spec;

  @Option(
      names = "--type",
      required = true,
      description = "rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521")
  String type;

  @Option(names = "--label", required = true, description = "the key's name (CKA_LABEL)")
  String label;

  @Override
  public Integer call() throws Exception {
    String algorithm = TYPES.get(type);
    if (algorithm == null) {
      throw new ConfigException(
          "--type '" + type + "' is not one of " + String.join(", ", TYPES.keySet()));
    }
    Labels.check(label);
    hsm.provisioner().create(new KeySpec(label, algorithm));
    spec.commandLine()
        .getOut()
        .println(
            "generated "
                + label
                + " ("
                + type
                + ") inside "
                + hsm.config().hsm().describeToken()
                + ": sensitive, not extractable, with a placeholder certificate");
    return 0;
  }
}
