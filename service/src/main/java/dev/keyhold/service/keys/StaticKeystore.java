package dev.keyhold.service.keys;

import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A {@link Keystore} over a fixed set of keys, discovered once at start-up. */
public final class StaticKeystore implements Keystore {
  private final Map<String, HsmKey> byName = new HashMap<>();
  private final Map<String, HsmKey> bySpki = new HashMap<>();
  private final List<HsmKey> all;

  public StaticKeystore(List<? extends HsmKey> keys) {
    for (HsmKey k : keys) {
      byName.put(k.description().name(), k);
      bySpki.put(HexFormat.of().formatHex(k.description().spkiSha256()), k);
    }
    this.all =
        keys.stream()
            .map(k -> (HsmKey) k)
            .sorted(Comparator.comparing(k -> k.description().name()))
            .toList();
  }

  @Override
  public Optional<HsmKey> byName(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  @Override
  public Optional<HsmKey> bySpkiSha256(byte[] spkiSha256) {
    return Optional.ofNullable(bySpki.get(HexFormat.of().formatHex(spkiSha256)));
  }

  @Override
  public List<HsmKey> all() {
    return all;
  }
}
