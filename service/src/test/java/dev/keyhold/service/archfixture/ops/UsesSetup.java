package dev.keyhold.service.archfixture.ops;

import dev.keyhold.service.archfixture.setup.DemoCa;

/** A serving class that calls a set-up tool. */
public final class UsesSetup {
  public String ca() {
    return DemoCa.name();
  }
}
