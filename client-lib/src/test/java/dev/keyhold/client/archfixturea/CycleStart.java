package dev.keyhold.client.archfixturea;

import dev.keyhold.client.archfixtureb.CycleEnd;

/**
 * Deliberately breaks every rule of {@code ArchitectureTest}, so its self-test can show each rule
 * fails: a package cycle with {@link CycleEnd}, a service import and a Netty import outside the
 * Netty package. Test-only; never imported with the main classes.
 */
public final class CycleStart {
  private CycleStart() {}

  /** The cycle's first half. */
  public static CycleEnd next() {
    return CycleEnd.create();
  }

  /** Client code naming the service's main code. */
  public static Class<?> service() {
    return dev.keyhold.service.KeyholdServer.class;
  }

  /** Netty outside {@code dev.keyhold.client.netty}. */
  public static io.netty.buffer.ByteBuf buffer() {
    return io.netty.buffer.Unpooled.EMPTY_BUFFER;
  }
}
