package dev.keyhold.service.grpc;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import dev.keyhold.service.testing.SlowKey;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.ProviderException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The bounded HSM executor: a full executor rejects at once, a call whose deadline passed while
 * queued never enters the HSM, and an HSM failure is UNAVAILABLE and transient. A {@link
 * SlowKey.Control} gate holds the HSM busy deterministically; nothing here depends on wall-clock
 * speed.
 */
class HsmLimitsIT {
  private static final int ECDSA_P256 = SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint();

  private static SignRequest ecSign() {
    return SignRequest.newBuilder()
        .setKey(KeyRef.newBuilder().setName("ec-p256"))
        .setScheme(ECDSA_P256)
        .setDigest(ByteString.copyFrom(new byte[32]))
        .build();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  private static Status.Code code(ListenableFuture<?> f) throws InterruptedException {
    try {
      f.get(30, TimeUnit.SECONDS);
      return Status.Code.OK;
    } catch (ExecutionException e) {
      return Status.fromThrowable(e.getCause()).getCode();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("call did not finish", e);
    }
  }

  @Test
  void sign_executorFull_isResourceExhaustedWhileHsmStillBusy() throws Exception {
    SlowKey.Control hsm = new SlowKey.Control().close();
    try (TestKeyholdService svc =
        TestKeyholdService.builder().sessions(1).queue(1).decorator(hsm.decorator()).start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        var async = KeyServiceGrpc.newFutureStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
        ListenableFuture<SignResponse> running = async.sign(ecSign());
        await(() -> hsm.entered.get() == 1, "the first call holds the only session");
        ListenableFuture<SignResponse> second = async.sign(ecSign());
        ListenableFuture<SignResponse> third = async.sign(ecSign());
        await(() -> second.isDone() || third.isDone(), "one of the two further calls is answered");

        ListenableFuture<SignResponse> rejected = second.isDone() ? second : third;
        ListenableFuture<SignResponse> queued = rejected == second ? third : second;
        StatusRuntimeException e =
            assertFails(
                () -> rejected.get(), Status.Code.RESOURCE_EXHAUSTED, ErrorReason.OVERLOADED);
        assertThat(running.isDone()).as("rejected while the HSM call is still running").isFalse();
        assertThat(queued.isDone()).as("the queued call waits for the session").isFalse();
        assertThat(e.getStatus().getDescription()).contains("full");

        hsm.open();
        assertThat(code(running)).isEqualTo(Status.Code.OK);
        assertThat(code(queued)).isEqualTo(Status.Code.OK);
        assertThat(hsm.entered.get()).isEqualTo(2);
        assertThat(svc.metrics().count("sign", "resource_exhausted")).isEqualTo(1);
      } finally {
        hsm.open();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void sign_deadlinePassesWhileQueued_neverEntersTheHsm() throws Exception {
    SlowKey.Control hsm = new SlowKey.Control().close();
    try (TestKeyholdService svc =
        TestKeyholdService.builder().sessions(1).queue(4).decorator(hsm.decorator()).start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        ListenableFuture<SignResponse> running =
            KeyServiceGrpc.newFutureStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS).sign(ecSign());
        await(() -> hsm.entered.get() == 1, "the first call holds the only session");
        ListenableFuture<SignResponse> late =
            KeyServiceGrpc.newFutureStub(ch)
                .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .sign(ecSign());
        assertThat(code(late)).isEqualTo(Status.Code.DEADLINE_EXCEEDED);

        hsm.open();
        assertThat(code(running)).isEqualTo(Status.Code.OK);
        await(
            () -> svc.metrics().count("sign", "deadline_exceeded") == 1,
            "the expired call is dequeued");

        assertThat(hsm.entered.get()).as("only the first call entered the HSM").isEqualTo(1);
      } finally {
        hsm.open();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void sign_hsmFailure_isUnavailableHsmFailureAndServiceRecovers() throws Exception {
    SlowKey.Control hsm = new SlowKey.Control();
    try (TestKeyholdService svc = TestKeyholdService.builder().decorator(hsm.decorator()).start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        var stub = KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
        hsm.failure = new ProviderException("CKR_DEVICE_ERROR");

        StatusRuntimeException ec =
            assertFails(
                () -> stub.sign(ecSign()), Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE);
        SignRequest pss =
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("rsa2048"))
                .setScheme(SignatureScheme.RSA_PSS_RSAE_SHA256.codePoint())
                .setDigest(ByteString.copyFrom(new byte[32]))
                .build();
        assertFails(() -> stub.sign(pss), Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE);
        DecryptPremasterRequest dec =
            DecryptPremasterRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("rsa2048"))
                .setCiphertext(ByteString.copyFrom(new byte[256]))
                .setClientVersion(0x0303)
                .build();
        assertFails(
            () -> stub.decryptPremaster(dec), Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE);
        assertThat(ec.getStatus().getDescription()).contains("CKR_DEVICE_ERROR");

        hsm.failure = null;
        assertThat(stub.sign(ecSign()).getSignature().isEmpty()).isFalse();
        assertThat(stub.sign(pss).getSignature().size()).isEqualTo(256);
        assertThat(stub.decryptPremaster(dec).getPremaster().size()).isEqualTo(48);
        assertThat(svc.metrics().count("sign", "unavailable")).isEqualTo(2);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
