package dev.keyhold.service.grpc;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.RawCalls;
import dev.keyhold.service.testing.ServiceClients;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests whose bytes are not a request: a caller the CA issued but no policy lists sends raw
 * bytes with a byte-array marshaller. Each is answered INVALID_ARGUMENT/MALFORMED_REQUEST (or
 * RESOURCE_EXHAUSTED/REQUEST_TOO_LARGE) with the request id, audited and counted, logged at most
 * once per interval and without a stack trace; the service keeps serving.
 */
class MalformedRequestIT {
  @RegisterExtension static final ServiceClients clients = new ServiceClients();

  private static final List<MethodDescriptor<?, ?>> METHODS =
      List.of(
          KeyServiceGrpc.getSignMethod(),
          KeyServiceGrpc.getDecryptPremasterMethod(),
          KeyServiceGrpc.getGetKeyMethod(),
          KeyServiceGrpc.getListKeysMethod());

  /** A tag whose varint never ends: not a message of any type. */
  private static final byte[] TRUNCATED = {(byte) 0xff, (byte) 0xff, (byte) 0xff};

  @Test
  void malformedBytes_everyMethod_invalidArgumentMalformedRequest_auditedAndCounted()
      throws Exception {
    for (MethodDescriptor<?, ?> m : METHODS) {
      String op = RequestGuard.operation(m.getBareMethodName()).label();
      long before = clients.service().metrics().count(op, "invalid_argument");
      StatusRuntimeException e =
          assertFails(
              () -> RawCalls.call(clients.channel(ServiceClients.OTHER), m, TRUNCATED),
              Status.Code.INVALID_ARGUMENT,
              ErrorReason.MALFORMED_REQUEST);
      String requestId = e.getTrailers().get(AuthInterceptor.REQUEST_ID_HEADER);
      assertThat(requestId).as("request id of %s", m.getBareMethodName()).isNotBlank();
      assertThat(clients.service().metrics().count(op, "invalid_argument")).isEqualTo(before + 1);
      HealthProbe.await(
          "audit line of " + requestId,
          Duration.ofSeconds(30),
          () ->
              auditLines().stream()
                  .anyMatch(
                      l ->
                          l.contains("\"request\":\"" + requestId + "\"")
                              && l.contains("\"client\":\"other-client\"")
                              && l.contains("\"op\":\"" + op + "\"")
                              && l.contains("\"outcome\":\"invalid_argument\"")));
    }
  }

  private static List<String> auditLines() {
    try {
      return Files.readAllLines(clients.service().auditFile());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void invalidUtf8InAKeyName_isMalformed() {
    // KeyRef.name (field 1 of KeyRef, field 1 of GetKeyRequest) holding 0xC0, not UTF-8.
    byte[] req = {0x0a, 0x03, 0x0a, 0x01, (byte) 0xc0};
    assertFails(
        () ->
            RawCalls.call(
                clients.channel(ServiceClients.TEST), KeyServiceGrpc.getGetKeyMethod(), req),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MALFORMED_REQUEST);
  }

  @Test
  void oversizedRequest_resourceExhaustedRequestTooLarge_counted() {
    // 64 KiB of digest: a well-formed SignRequest, four times the service's 16 KiB limit.
    byte[] req =
        SignRequest.newBuilder()
            .setKey(KeyRef.newBuilder().setName("rsa2048"))
            .setScheme(SignatureScheme.RSA_PKCS1_SHA256.codePoint())
            .setDigest(ByteString.copyFrom(new byte[64 * 1024]))
            .build()
            .toByteArray();
    long before = clients.service().metrics().count("sign", "resource_exhausted");
    StatusRuntimeException e =
        assertFails(
            () ->
                RawCalls.call(
                    clients.channel(ServiceClients.TEST), KeyServiceGrpc.getSignMethod(), req),
            Status.Code.RESOURCE_EXHAUSTED,
            ErrorReason.REQUEST_TOO_LARGE);
    assertThat(e.getTrailers().get(AuthInterceptor.REQUEST_ID_HEADER)).isNotBlank();
    assertThat(clients.service().metrics().count("sign", "resource_exhausted"))
        .isEqualTo(before + 1);
  }

  @Test
  void aFloodOfMalformedRequests_logsAtMostALineOrTwo_noStackTrace_serviceKeepsServing() {
    try (RawCalls.LogCapture log = new RawCalls.LogCapture()) {
      for (int i = 0; i < 300; i++) {
        MethodDescriptor<?, ?> m = METHODS.get(i % METHODS.size());
        assertFails(
            () -> RawCalls.call(clients.channel(ServiceClients.OTHER), m, TRUNCATED),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MALFORMED_REQUEST);
      }
      assertThat(log.stackTraces()).as("stack traces logged").isZero();
      assertThat(log.julRecords()).as("grpc-java (java.util.logging) records").isZero();
      // One line per 10 s interval: the run may straddle an interval boundary.
      assertThat(log.lines()).as("log lines for 300 malformed requests").isBetween(0L, 2L);
    }
    assertThat(
            clients
                .stub(ServiceClients.TEST)
                .listKeys(dev.keyhold.proto.v1.ListKeysRequest.getDefaultInstance())
                .getKeysCount())
        .isPositive();
  }
}
