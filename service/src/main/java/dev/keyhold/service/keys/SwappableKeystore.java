package dev.keyhold.service.keys;

import java.security.PublicKey;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

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

  /**
   * Serves {@code next} from now on, and drops the fault check's per-key state (P-256 tables) of
   * the keys {@code next} no longer has.
   */
  public void swap(Keystore next) {
    Keystore previous = this.current;
    this.current = next;
    Set<PublicKey> kept =
        next.all().stream().map(k -> k.description().publicKey()).collect(Collectors.toSet());
    for (HsmKey k : previous.all()) {
      PublicKey pub = k.description().publicKey();
      if (!kept.contains(pub)) {
        SoftwareVerifier.forget(pub);
      }
    }
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
