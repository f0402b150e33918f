package dev.keyhold.service.archfixture.setup;

/** A set-up tool. */
public final class DemoCa {
  public static String name() {
    return "demo";
  }
}
