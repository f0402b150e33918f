package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigException;

/** What a key label may be: the name clients ask for, so printable and without spaces. */
final class Labels {
  private Labels() {}

  static void check(String label) {
    if (label == null || !label.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new ConfigException(
          "--label '"
              + label
              + "' is not a key name: 1-64 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
    }
  }

  /** One of a positional name (the older form) and {@code --label}, exactly. */
  static String either(String positional, String option) {
    if ((positional == null) == (option == null)) {
      throw new ConfigException("name the key once: --label NAME");
    }
    return positional != null ? positional : option;
  }
}
