package dev.keyhold.service.tls;

import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.service.keys.HsmKey;
import java.security.GeneralSecurityException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link PremasterDecryptor} per RSA key, created on first use (its KDK derivation is one HSM
 * call).
 */
public final class PremasterDecryptors {
  private final DecryptMode mode;
  private final ConcurrentHashMap<String, PremasterDecryptor> byKey = new ConcurrentHashMap<>();

  public PremasterDecryptors(DecryptMode mode) {
    this.mode = mode;
  }

  public PremasterDecryptor forKey(HsmKey key) throws GeneralSecurityException {
    String name = key.description().name();
    PremasterDecryptor d = byKey.get(name);
    if (d == null) {
      d = PremasterDecryptor.create(key, mode);
      PremasterDecryptor raced = byKey.putIfAbsent(name, d);
      if (raced != null) {
        d = raced;
      }
    }
    return d;
  }
}
