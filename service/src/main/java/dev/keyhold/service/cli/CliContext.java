package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import java.lang.reflect.Constructor;
import java.util.Map;
import picocli.CommandLine;

/**
 * What the command line takes from its surroundings: how a token is opened and the environment
 * configuration overrides come from. Tests pass the JVM's test token and a fixed environment; the
 * real command opens the configured token and reads the process environment.
 *
 * @param tokens opens (logs in to) the configured token
 * @param environment the variables {@code KEYHOLD_*} overrides and {@code pin.env} are read from
 */
public record CliContext(TokenSource tokens, Map<String, String> environment) {

  /** Opens a token; {@link Pkcs11Token#open} in production. */
  @FunctionalInterface
  public interface TokenSource {
    Pkcs11Token open(HsmConfig hsm);
  }

  public CliContext {
    environment = Map.copyOf(environment);
  }

  /** The real thing: the configured token and this process's environment. */
  public static CliContext system() {
    return new CliContext(Pkcs11Token::open, System.getenv());
  }

  /**
   * A command line for {@code root} whose commands and mixins receive this context when they have a
   * constructor taking one, with the error handling of the {@code keyhold} command: a {@link
   * ConfigException} prints its one line and exits 2, any other failure its type and message and
   * exits 1.
   */
  public CommandLine commandLine(Object root) {
    CommandLine cl = new CommandLine(root, new Factory(this));
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof ConfigException) {
            cmd.getErr().println("keyhold: " + ex.getMessage());
            return 2;
          }
          cmd.getErr()
              .println("keyhold: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
          return 1;
        });
    return cl;
  }

  private record Factory(CliContext context) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      Constructor<K> withContext;
      try {
        withContext = cls.getDeclaredConstructor(CliContext.class);
      } catch (NoSuchMethodException e) {
        return CommandLine.defaultFactory().create(cls);
      }
      return withContext.newInstance(context);
    }
  }
}
