package dev.keyhold.client.rpc;

import io.grpc.Status;
import java.security.GeneralSecurityException;

/**
 * A Keyhold call failed: the service refused it, or could not be reached in time. Carries the gRPC
 * status code and the service's reason (an {@code ErrorReason} name, or empty). Never a padding
 * failure: a remote error must not look like bad padding to a TLS stack.
 */
public class KeyholdException extends GeneralSecurityException {
  private static final long serialVersionUID = 1L;

  /**
   * Reason of the {@code RESOURCE_EXHAUSTED} a client raises itself, without sending the call, when
   * {@link KeyholdClientConfig#maxInFlight()} calls are already waiting for an answer.
   */
  public static final String REASON_IN_FLIGHT_LIMIT = "CLIENT_IN_FLIGHT_LIMIT";

  private final Status.Code code;
  private final String reason;

  public KeyholdException(Status.Code code, String reason, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.reason = reason == null ? "" : reason;
  }

  public Status.Code code() {
    return code;
  }

  /** The service's ErrorReason name, e.g. "KEY_NOT_FOUND"; empty if none was sent. */
  public String reason() {
    return reason;
  }

  /** Whether the service was unreachable or too slow (as opposed to refusing the request). */
  public boolean isUnavailable() {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
  }
}
