package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.service.pkcs11.KeyProvisioner;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config} option of every command that works on the token, and what it opens. */
public final class HsmOptions {
  private final CliContext context;

  @Option(names = "--config", required = true, description = "the service's YAML configuration")
  Path config;

  private ServiceConfig loaded;
  private Pkcs11Token token;

  public HsmOptions(CliContext context) {
    this.context = context;
  }

  /** The configuration, with the environment's overrides. */
  ServiceConfig config() {
    if (loaded == null) {
      loaded = new ConfigLoader(context.environment()).load(config);
    }
    return loaded;
  }

  /** The configured token, logged in. */
  Pkcs11Token token() {
    if (token == null) {
      token = context.tokens().open(config().hsm());
    }
    return token;
  }

  KeyProvisioner provisioner() {
    return new KeyProvisioner(token());
  }
}
