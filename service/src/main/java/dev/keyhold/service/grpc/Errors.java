package dev.keyhold.service.grpc;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import dev.keyhold.proto.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Builds failure statuses: a gRPC code, a description that names the problem (never a secret), and
 * a {@code google.rpc.ErrorInfo} detail whose reason is an {@link ErrorReason}.
 */
public final class Errors {
  public static final String DOMAIN = "keyhold.dev";

  private Errors() {}

  /** A failed call, ready for {@code onError}. */
  public static final class KeyholdStatusException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Status.Code code;
    private final ErrorReason reason;

    public KeyholdStatusException(Status.Code code, ErrorReason reason, String description) {
      super(description, null, false, false);
      this.code = code;
      this.reason = reason;
    }

    public Status.Code code() {
      return code;
    }

    public ErrorReason reason() {
      return reason;
    }

    public StatusRuntimeException toStatus() {
      com.google.rpc.Status proto =
          com.google.rpc.Status.newBuilder()
              .setCode(code.value())
              .setMessage(getMessage())
              .addDetails(
                  Any.pack(
                      ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason.name()).build()))
              .build();
      return StatusProto.toStatusRuntimeException(proto);
    }
  }

  public static KeyholdStatusException invalid(ErrorReason reason, String description) {
    return new KeyholdStatusException(Status.Code.INVALID_ARGUMENT, reason, description);
  }

  public static KeyholdStatusException notFound(String keyDescription, String operation) {
    return new KeyholdStatusException(
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        "key "
            + keyDescription
            + " does not exist or is not available to this client for "
            + operation);
  }

  public static KeyholdStatusException of(
      Status.Code code, ErrorReason reason, String description) {
    return new KeyholdStatusException(code, reason, description);
  }
}
