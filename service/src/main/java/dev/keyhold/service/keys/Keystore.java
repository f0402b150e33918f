package dev.keyhold.service.keys;

import java.util.List;
import java.util.Optional;

/**
 * The keys a service serves: one lookup, by name or by SPKI SHA-256, each returning the key that
 * performs the operation. Immutable once built, except {@link SwappableKeystore}, which a token
 * re-scan replaces as a whole.
 */
public interface Keystore {

  Optional<HsmKey> byName(String name);

  Optional<HsmKey> bySpkiSha256(byte[] spkiSha256);

  /** All keys, sorted by name. */
  List<HsmKey> all();
}
