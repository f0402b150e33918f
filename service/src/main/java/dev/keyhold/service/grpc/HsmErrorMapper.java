package dev.keyhold.service.grpc;

import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.ops.ApiOperation;
import io.grpc.Status;
import java.security.GeneralSecurityException;
import java.security.ProviderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps a failed HSM step to its gRPC status and ErrorInfo reason. PKCS#11 failures arrive already
 * classified ({@link HsmException}); nothing here reads PKCS#11 return values.
 */
final class HsmErrorMapper {
  private static final Logger log = LoggerFactory.getLogger(HsmErrorMapper.class);

  private HsmErrorMapper() {}

  static KeyholdStatusException toStatus(Exception e, ApiOperation op, String keyName) {
    if (e instanceof KeyholdStatusException k) {
      return k;
    }
    if (e instanceof Signer.SignatureFaultException) {
      log.error("HSM fault: {}", e.getMessage());
      return Errors.of(Status.Code.INTERNAL, ErrorReason.SIGNATURE_FAULT, e.getMessage());
    }
    if (e instanceof GeneralSecurityException || e instanceof ProviderException) {
      String why = HsmException.rootMessage(e);
      // Per call at debug only: the audit log has every call's outcome, and the token's
      // supervisor logs one line per state change, not one per failed call.
      log.debug("HSM operation {} on key '{}' failed: {}", op.label(), keyName, why);
      return Errors.of(
          Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE, "HSM operation failed: " + why);
    }
    log.error("unexpected failure in {} on key '{}'", op.label(), keyName, e);
    return Errors.of(
        Status.Code.INTERNAL,
        ErrorReason.HSM_FAILURE,
        "internal error: " + e.getClass().getSimpleName());
  }
}
