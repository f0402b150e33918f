package dev.keyhold.service.keys;

/**
 * The health of one token, as its background probe and the failures of real operations see it.
 *
 * <pre>
 *   SERVING --failure--> RECOVERING --re-initialised and probed--> SERVING
 *                            |  ^
 *                  re-init fails  backoff
 *                            v  |
 *                        NOT_SERVING
 * </pre>
 */
public enum TokenState {
  /** The token answers: the probe's last signature verified. */
  SERVING,
  /** The token does not answer; the service retries with capped exponential backoff. */
  NOT_SERVING,
  /**
   * A session failed (poisoned, invalid, logged out): the token's sessions are being replaced.
   * Calls still go to the token, which usually answers, and health still says serving: one bad
   * ciphertext must not take a replica out of rotation. If the re-initialisation fails, the state
   * becomes NOT_SERVING.
   */
  RECOVERING;

  /** Whether health checks should send traffic here (SERVING or RECOVERING). */
  public boolean serving() {
    return this != NOT_SERVING;
  }

  /** Who wants to hear of state changes (health, metrics). Called on the supervisor's thread. */
  @FunctionalInterface
  public interface Listener {
    void changed(String token, TokenState from, TokenState to, String why);
  }
}
