package dev.keyhold.demo.netty;

import dev.keyhold.client.rpc.KeyholdException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;

/**
 * One clear WARN line when Keyhold refuses or is down, per state change: the first failed handshake
 * of a failure class ("Keyhold unavailable", "Keyhold refused", "Keyhold key operation failed")
 * logs one line; further failures of the same class are only counted until a handshake succeeds or
 * the class changes. A flood of handshakes against a dead service therefore costs one log line, and
 * the operator still sees every transition. Thread-safe (event loops call it concurrently).
 *
 * <p>Security note: the line holds the failure class and Keyhold's own message (a status and
 * reason, never key material or a PIN).
 */
final class KeyholdFailureLog {
  private final Logger log;
  private final AtomicReference<String> current = new AtomicReference<>();

  KeyholdFailureLog(Logger log) {
    this.log = log;
  }

  /** The failure class of a Keyhold key-operation failure. */
  static String classify(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof KeyholdException ke) {
        return ke.isUnavailable() ? "Keyhold unavailable" : "Keyhold refused";
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return "Keyhold key operation failed";
  }

  /** A handshake failed because Keyhold's private-key step failed; logs at most one line. */
  void failed(Object peer, Throwable failure) {
    String cls = classify(failure);
    String before = current.getAndSet(cls);
    if (!cls.equals(before)) {
      log.warn(
          "{}: TLS handshakes fail ({} from {}); further failures of this kind are counted, not"
              + " logged, until a handshake succeeds",
          cls,
          String.valueOf(failure.getMessage()),
          peer);
    }
  }

  /** A handshake succeeded: the next Keyhold failure is news again. */
  void succeeded() {
    if (current.get() != null && current.getAndSet(null) != null) {
      log.info("Keyhold key operations succeed again");
    }
  }
}
