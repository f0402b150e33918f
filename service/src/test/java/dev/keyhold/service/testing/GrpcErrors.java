package dev.keyhold.service.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.keyhold.proto.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.concurrent.ExecutionException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Test helpers for Keyhold's failure statuses: a gRPC code plus a google.rpc.ErrorInfo reason. */
public final class GrpcErrors {
  private GrpcErrors() {}

  /**
   * Runs the call, which must fail, and returns its status exception (unwrapped from a future's
   * ExecutionException).
   */
  public static StatusRuntimeException failure(ThrowingCallable call) {
    Throwable t = catchThrowable(call);
    if (t instanceof ExecutionException) {
      t = t.getCause();
    }
    assertThat(t)
        .as("the call should have failed with a gRPC status")
        .isInstanceOf(StatusRuntimeException.class);
    return (StatusRuntimeException) t;
  }

  /** The ErrorInfo detail of a failure, or null if it carries none. */
  public static ErrorInfo errorInfo(StatusRuntimeException e) {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s == null) {
      return null;
    }
    for (Any a : s.getDetailsList()) {
      if (a.is(ErrorInfo.class)) {
        try {
          return a.unpack(ErrorInfo.class);
        } catch (InvalidProtocolBufferException ex) {
          throw new AssertionError(ex);
        }
      }
    }
    return null;
  }

  /**
   * Asserts the call fails with this code and ErrorInfo reason (domain keyhold.dev); returns the
   * failure.
   */
  public static StatusRuntimeException assertFails(
      ThrowingCallable call, Status.Code code, ErrorReason reason) {
    StatusRuntimeException e = failure(call);
    assertThat(e.getStatus().getCode()).as("status code of %s", e.getStatus()).isEqualTo(code);
    assertThat(e.getStatus().getDescription()).as("description").isNotBlank();
    ErrorInfo info = errorInfo(e);
    assertThat(info).as("ErrorInfo detail of %s", e.getStatus()).isNotNull();
    assertThat(info.getDomain()).isEqualTo("keyhold.dev");
    assertThat(info.getReason()).isEqualTo(reason.name());
    return e;
  }
}
