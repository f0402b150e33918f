package dev.keyhold.service.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A PKCS#11 call that hangs: the caller's deadline answers the call on time while the HSM thread
 * stays stuck; {@code hsm.maxStuckThreads} stuck threads take the service out of rotation and new
 * calls are refused at once instead of queueing behind them; after the release it serves again.
 */
class HungCallIT {
  private static final String SIGN = "sign";

  @Test
  void hungSign_deadlineAnswersOnTime_stuckThreadsBounded_servesAgainAfterRelease()
      throws Exception {
    FaultShim shim = FaultShim.create();
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .token(shim.openToken())
            .sessions(4)
            .maxStuckThreads(2)
            .metrics(true)
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        HealthProbe health = new HealthProbe(ch, svc.metricsPort());
        SignRequest req =
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("ec-p256"))
                .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
                .setDigest(
                    ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[3])))
                .build();
        var stub = KeyServiceGrpc.newBlockingStub(ch);
        assertThat(stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req).getSignature())
            .isNotEmpty();
        HealthProbe.await("serving", Duration.ofSeconds(20), () -> health.serving(true));

        shim.hang("C_Sign");
        var async = KeyServiceGrpc.newFutureStub(ch);
        List<ListenableFuture<SignResponse>> hung = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          hung.add(async.withDeadlineAfter(1500, TimeUnit.MILLISECONDS).sign(req));
        }
        shim.awaitHung(2, Duration.ofSeconds(20));
        for (ListenableFuture<SignResponse> f : hung) {
          assertThat(GrpcErrors.failure(() -> f.get(30, TimeUnit.SECONDS)).getStatus().getCode())
              .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
        // The server answered them itself when their deadlines fired (counted and audited as
        // deadline_exceeded), while both its threads are still in C_Sign.
        HealthProbe.await(
            "the server completed both hung calls",
            Duration.ofSeconds(20),
            () -> svc.metrics().count(SIGN, "deadline_exceeded") == 2);
        assertThat(shim.counter("hung")).isEqualTo(2);
        HealthProbe.await("not serving", Duration.ofSeconds(20), () -> health.serving(false));
        assertThat(health.metrics()).contains("keyhold_hsm_stuck_threads 2.0");

        // New calls do not queue behind the stuck threads: UNAVAILABLE at once, with a deadline
        // far away that a queued call would have hung into.
        GrpcErrors.assertFails(
            () -> stub.withDeadlineAfter(60, TimeUnit.SECONDS).sign(req),
            Status.Code.UNAVAILABLE,
            ErrorReason.HSM_FAILURE);
        assertThat(shim.counter("hung")).as("no more threads went into the HSM").isEqualTo(2);

        shim.release();
        HealthProbe.await("serving again", Duration.ofSeconds(20), () -> health.serving(true));
        assertThat(health.metrics()).contains("keyhold_hsm_stuck_threads 0.0");
        for (int i = 0; i < 8; i++) {
          assertThat(stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req).getSignature())
              .isNotEmpty();
        }
      } finally {
        shim.release();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
