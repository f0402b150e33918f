package dev.keyhold.service.auth;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static dev.keyhold.service.testing.GrpcErrors.failure;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mTLS is required: no client certificate, or one from another CA, gets no call through; an
 * unlisted client gets no key.
 */
class AuthIT {
  private static TestKeyholdService svc;

  @BeforeAll
  static void start() {
    svc = TestKeyholdService.start();
  }

  @AfterAll
  static void stop() {
    svc.close();
  }

  private static final SignRequest SIGN =
      SignRequest.newBuilder()
          .setKey(KeyRef.newBuilder().setName("ec-p256"))
          .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
          .setDigest(ByteString.copyFrom(new byte[32]))
          .build();
  private static final DecryptPremasterRequest DECRYPT =
      DecryptPremasterRequest.newBuilder()
          .setKey(KeyRef.newBuilder().setName("rsa2048"))
          .setCiphertext(ByteString.copyFrom(new byte[256]))
          .setClientVersion(0x0303)
          .build();
  private static final GetKeyRequest GET_KEY =
      GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName("rsa2048")).build();

  /** Every call this channel can make, each run through {@code check}. */
  private static void everyCall(ManagedChannel ch, Consumer<ThrowingCallable> check) {
    var stub = KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
    var health = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
    List<ThrowingCallable> calls =
        List.of(
            () -> stub.sign(SIGN),
            () -> stub.decryptPremaster(DECRYPT),
            () -> stub.getKey(GET_KEY),
            () -> stub.listKeys(ListKeysRequest.getDefaultInstance()),
            () -> health.check(HealthCheckRequest.getDefaultInstance()));
    calls.forEach(check);
  }

  @Test
  void everyMethod_clientWithoutCertificate_failsTheHandshakeUnavailable() throws Exception {
    double reached = operationsCounted();
    ManagedChannel ch = svc.channel(null);
    try {
      everyCall(
          ch,
          call ->
              assertThat(failure(call).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(operationsCounted())
        .as("no call of any operation or outcome reached the service")
        .isEqualTo(reached);
  }

  /** Every keyhold_operations_total counter, whatever its operation and outcome. */
  private static double operationsCounted() {
    return svc.metrics().registry().find("keyhold.operations").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count)
        .sum();
  }

  @Test
  void everyMethod_certificateFromAnotherCa_failsTheHandshakeUnavailable(@TempDir Path dir)
      throws Exception {
    LocalPki rogue = LocalPki.create("Rogue CA");
    LocalPki.Issued impostor = rogue.issueClient("test-client");
    Path cert = dir.resolve("impostor.pem");
    Path key = dir.resolve("impostor.key");
    Files.writeString(cert, LocalPki.pem(impostor.certificate()));
    LocalPki.writePrivate(key, LocalPki.pem(impostor.privateKey()));
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", svc.port())
            .overrideAuthority("localhost")
            .sslContext(
                GrpcSslContexts.forClient()
                    .trustManager(svc.caCert().toFile())
                    .keyManager(cert.toFile(), key.toFile())
                    .build())
            .build();
    double reached = operationsCounted();
    try {
      everyCall(
          ch,
          call ->
              assertThat(failure(call).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(operationsCounted())
        .as("an impostor's calls never reach the service")
        .isEqualTo(reached);
  }

  @Test
  void health_clientWithCertificate_isServing() throws Exception {
    ManagedChannel ch = svc.channel("other-client");
    try {
      var health = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);

      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      assertThat(
              health
                  .check(
                      HealthCheckRequest.newBuilder()
                          .setService(KeyServiceGrpc.SERVICE_NAME)
                          .build())
                  .getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void keyMethods_otherClient_getNotFoundForEveryKey() throws Exception {
    ManagedChannel ch = svc.channel("other-client");
    try {
      var stub = KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      assertFails(() -> stub.sign(SIGN), Status.Code.NOT_FOUND, ErrorReason.KEY_NOT_FOUND);
      assertFails(
          () -> stub.decryptPremaster(DECRYPT), Status.Code.NOT_FOUND, ErrorReason.KEY_NOT_FOUND);
      for (String key : List.of("rsa1024", "rsa2048", "rsa3072", "ec-p256", "ec-p384", "ec-p521")) {
        assertFails(
            () ->
                stub.getKey(
                    GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName(key)).build()),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);
      }
      assertThat(stub.listKeys(ListKeysRequest.getDefaultInstance()).getKeysList()).isEmpty();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
