package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

/** Every failure status carries its code, its description and one ErrorInfo naming the reason. */
class ErrorsTest {

  static ErrorInfo errorInfo(StatusRuntimeException e) throws InvalidProtocolBufferException {
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    assertThat(s).isNotNull();
    assertThat(s.getDetailsCount()).isEqualTo(1);
    return s.getDetails(0).unpack(ErrorInfo.class);
  }

  @Test
  void invalid_isInvalidArgumentWithTheReason() throws Exception {
    KeyholdStatusException e = Errors.invalid(ErrorReason.DIGEST_LENGTH, "digest is 3 bytes");

    assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.reason()).isEqualTo(ErrorReason.DIGEST_LENGTH);
    assertThat(e.getMessage()).isEqualTo("digest is 3 bytes");
  }

  @Test
  void notFound_namesTheKeyAndOperationButNotWhetherItExists() {
    KeyholdStatusException e = Errors.notFound("'rsa2048'", "sign");

    assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.reason()).isEqualTo(ErrorReason.KEY_NOT_FOUND);
    assertThat(e.getMessage())
        .isEqualTo("key 'rsa2048' does not exist or is not available to this client for sign");
  }

  @Test
  void toStatus_carriesCodeDescriptionAndErrorInfo() throws Exception {
    KeyholdStatusException e =
        Errors.of(Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE, "HSM operation failed: x");

    StatusRuntimeException s = e.toStatus();

    assertThat(s.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getStatus().getDescription()).isEqualTo("HSM operation failed: x");
    ErrorInfo info = errorInfo(s);
    assertThat(info.getDomain()).isEqualTo(Errors.DOMAIN);
    assertThat(info.getReason()).isEqualTo("HSM_FAILURE");
  }

  @Test
  void keyholdStatusException_hasNoStackTrace() {
    // Built on every refused call: no stack trace, and nothing to log by accident.
    assertThat(Errors.invalid(ErrorReason.MISSING_FIELD, "x").getStackTrace()).isEmpty();
  }
}
