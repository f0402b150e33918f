package dev.keyhold.client.archfixtureb;

import dev.keyhold.client.archfixturea.CycleStart;

/** The second half of {@link CycleStart}'s deliberate package cycle. Test-only. */
public final class CycleEnd {
  private CycleEnd() {}

  /** A new instance. */
  public static CycleEnd create() {
    return new CycleEnd();
  }

  /** The cycle's way back. */
  public Class<?> back() {
    return CycleStart.class;
  }
}
