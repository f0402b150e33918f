package dev.keyhold.config;

import java.nio.file.Path;

/**
 * One member of an HA group ({@code hsm.tokens}): which token, and where its module and PIN are
 * when they differ from the {@code hsm} section's.
 *
 * @param library the member's PKCS#11 module; default {@code hsm.library}
 * @param tokenLabel the member's token by label (preferred)
 * @param slot the member's token by slot id, when no label is given
 * @param pin the member's user PIN; default {@code hsm.pin}
 */
public record TokenRef(Path library, String tokenLabel, Long slot, PinSource pin) {
  public TokenRef {
    if ((tokenLabel == null || tokenLabel.isBlank()) && slot == null) {
      throw new ConfigException("hsm.tokens[]: every token needs a tokenLabel or a slot");
    }
  }
}
