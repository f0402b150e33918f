package dev.keyhold.demo.jsse;

import dev.keyhold.client.rpc.KeyholdException;

/**
 * Turns a failed handshake into one log-friendly phrase. When Keyhold refused the key operation or
 * could not be reached, the phrase says so first, because that is what an operator must act on; the
 * TLS stack's own message (which names the alert cause) follows.
 */
final class HandshakeFailures {
  private HandshakeFailures() {}

  /** Whether Keyhold refused the key operation or could not be reached. */
  static boolean causedByKeyhold(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof KeyholdException) {
        return true;
      }
    }
    return false;
  }

  /** Whether the peer closed the connection before the handshake finished (probes, aborts). */
  static boolean peerLeft(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof java.io.EOFException) {
        return true;
      }
      String m = t.getMessage();
      if (m != null
          && (m.contains("Remote host terminated the handshake")
              || m.contains("Connection reset"))) {
        return true;
      }
    }
    return false;
  }

  static String describe(Throwable failure) {
    Throwable wrapper = null;
    KeyholdException keyhold = null;
    for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
      if (t.getCause() instanceof KeyholdException ke) {
        wrapper = t;
        keyhold = ke;
        break;
      }
      if (t instanceof KeyholdException ke) {
        wrapper = t;
        keyhold = ke;
        break;
      }
    }
    if (keyhold == null) {
      return failure.getClass().getSimpleName() + ": " + failure.getMessage();
    }
    String what = keyhold.isUnavailable() ? "Keyhold unavailable" : "Keyhold refused";
    String op = wrapper == failure || wrapper == keyhold ? "" : " (" + wrapper.getMessage() + ")";
    return what + op + ": " + keyhold.getMessage() + "; TLS: " + failure.getMessage();
  }
}
