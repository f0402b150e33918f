package dev.keyhold.service.keys;

import java.util.List;
import java.util.Optional;

/**
 * A {@link Keystore} whose keys a token re-scan replaces as a whole: each lookup sees either the
 * old set or the new one, never a mix. A caller that already resolved a key keeps that {@link
 * HsmKey} and finishes its operation on it.
 */
public final class SwappableKeystore implements Keystore {
  private volatile Keystore current;

  public SwappableKeystore(Keystore initial) {
    this.current = initial;
  }

  /** Serves {@code next} from now on. */
  public void swap(Keystore next) {
    this.current = next;
  }

  @Override
  public Optional<HsmKey> byName(String name) {
    return current.byName(name);
  }

  @Override
  public Optional<HsmKey> bySpkiSha256(byte[] spkiSha256) {
    return current.bySpkiSha256(spkiSha256);
  }

  @Override
  public List<HsmKey> all() {
    return current.all();
  }
}
