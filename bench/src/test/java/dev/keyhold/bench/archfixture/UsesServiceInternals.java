package dev.keyhold.bench.archfixture;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import java.security.Provider;

/** Breaks the bench's rule on purpose: reaches past the service's public API into ..pkcs11. */
public final class UsesServiceInternals {
  public Provider provider(HsmConfig hsm) {
    return Pkcs11Token.open(hsm).provider();
  }
}
