package dev.keyhold.service.archfixture.keys;

import dev.keyhold.service.archfixture.tls.CycleB;

/** Half of a keys <-> tls cycle. */
public final class CycleA {
  public CycleB other() {
    return new CycleB();
  }
}
