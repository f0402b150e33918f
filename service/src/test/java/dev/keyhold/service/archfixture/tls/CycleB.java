package dev.keyhold.service.archfixture.tls;

import dev.keyhold.service.archfixture.keys.CycleA;

/** The other half of a keys <-> tls cycle. */
public final class CycleB {
  public CycleA other() {
    return new CycleA();
  }
}
