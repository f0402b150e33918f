package dev.keyhold.service.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.pkcs11.TokenSupervisor;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A probe that hangs in the module (the shim holds C_Sign): after {@code hsm.probeTimeout} the
 * token is NOT_SERVING, later probe rounds are skipped instead of sending more threads into the
 * hung module, calls fail fast with HSM_FAILURE, and after the release the token serves again.
 */
class ProbeTimeoutIT {
  @Test
  void hungProbe_notServingAfterProbeTimeout_noProbeThreadsPileUp_servesAgainAfterRelease()
      throws Exception {
    FaultShim shim = FaultShim.create();
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .token(shim.openToken())
            .probeInterval(Duration.ofMillis(200))
            .probeTimeout(Duration.ofSeconds(1))
            .metrics(true)
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        HealthProbe health = new HealthProbe(ch, svc.metricsPort());
        TokenSupervisor supervisor = svc.server().token();
        SignRequest req =
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("ec-p256"))
                .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
                .setDigest(
                    ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[5])))
                .build();
        var stub = KeyServiceGrpc.newBlockingStub(ch);
        assertThat(stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req).getSignature())
            .isNotEmpty();
        HealthProbe.await("serving", Duration.ofSeconds(20), () -> health.serving(true));

        shim.hang("C_Sign");
        shim.awaitHung(1, Duration.ofSeconds(20)); // the probe's signature is stuck
        HealthProbe.await(
            "NOT_SERVING although the probe never returned",
            Duration.ofSeconds(20),
            () -> health.serving(false));
        assertThat(health.metrics()).contains("keyhold_hsm_token_up{token=\"keyhold-test\"} 0.0");

        long skippedBefore = supervisor.probesSkipped();
        HealthProbe.await(
            "three more probe rounds",
            Duration.ofSeconds(20),
            () -> supervisor.probesSkipped() >= skippedBefore + 3);
        assertThat(shim.counter("hung"))
            .as("the skipped rounds sent no more threads into the hung module")
            .isEqualTo(1);

        // Calls meanwhile are refused at once instead of hanging beside the probe.
        GrpcErrors.assertFails(
            () -> stub.withDeadlineAfter(60, TimeUnit.SECONDS).sign(req),
            Status.Code.UNAVAILABLE,
            ErrorReason.HSM_FAILURE);
        assertThat(shim.counter("hung")).isEqualTo(1);

        shim.release();
        HealthProbe.await("serving again", Duration.ofSeconds(20), () -> health.serving(true));
        assertThat(health.metrics()).contains("keyhold_hsm_token_up{token=\"keyhold-test\"} 1.0");
        for (int i = 0; i < 4; i++) {
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
