package dev.keyhold.config;

/**
 * A configuration problem, with a message that says what to fix. Messages name paths, keys and
 * sources, never secret values.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
