package dev.keyhold.client.rpc;

import io.grpc.Status;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs failed key operations at WARNING on {@code java.util.logging} logger {@code
 * dev.keyhold.client} (app servers route JUL to their own logs), because app servers hide the
 * handshake failures they cause: Tomcat logs them only at FINE. At most one line per cause (gRPC
 * status and reason) per 10 s, with the count suppressed since the last line.
 */
final class OffloadFailureLog {
  static final Logger LOG = Logger.getLogger("dev.keyhold.client");
  static final long INTERVAL_NANOS = 10_000_000_000L;

  private final ConcurrentMap<String, Cause> causes = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  private static final OffloadFailureLog INSTANCE = new OffloadFailureLog(System::nanoTime);

  OffloadFailureLog(LongSupplier clock) {
    this.clock = clock;
  }

  static OffloadFailureLog get() {
    return INSTANCE;
  }

  /** One cause's rate limit: when its last line went out, and how many were held back since. */
  private static final class Cause {
    volatile long lastLogged;
    volatile boolean logged;
    final AtomicLong suppressed = new AtomicLong();
  }

  /**
   * Records a failure of {@code operation} ("sign", "decrypt_premaster") on {@code keyName} at
   * service {@code target}.
   */
  void report(String target, String operation, String keyName, Throwable failure) {
    if (!LOG.isLoggable(Level.WARNING)) {
      return;
    }
    Status.Code code;
    String reason;
    if (failure instanceof KeyholdException ke) {
      code = ke.code();
      reason = ke.reason();
    } else {
      code = Status.Code.UNKNOWN;
      reason = failure.getClass().getSimpleName();
    }
    String key = target + " " + code + (reason.isEmpty() ? "" : " " + reason);
    Cause c = causes.computeIfAbsent(key, k -> new Cause());
    long now = clock.getAsLong();
    boolean emit;
    synchronized (c) {
      emit = !c.logged || now - c.lastLogged >= INTERVAL_NANOS;
      if (emit) {
        c.logged = true;
        c.lastLogged = now;
      }
    }
    if (!emit) {
      c.suppressed.incrementAndGet();
      return;
    }
    long held = c.suppressed.getAndSet(0);
    LOG.log(
        Level.WARNING,
        "Keyhold {0} with key {1} at {2} failed: {3}{4}{5}",
        new Object[] {
          operation,
          keyName,
          target,
          failure.getMessage(),
          held > 0 ? " (" + held + " more like it in the last 10 s)" : "",
          " [at most one line per 10 s for " + key + "]"
        });
  }
}
