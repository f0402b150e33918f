package dev.keyhold.service.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.SignRequest;
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
 * Health that touches the HSM: a device error through the fault shim takes the service out of
 * rotation (gRPC health and {@code /readyz}) within one probe interval, calls meanwhile fail fast
 * with UNAVAILABLE HSM_FAILURE, and the service comes back by itself within one interval of the
 * device recovering, without a restart.
 */
class HsmHealthIT {
  private static final Duration PROBE = Duration.ofMillis(200);

  /** Scheduling slack on a shared 2-core machine; the requirement is "within one interval". */
  private static final Duration MARGIN = Duration.ofSeconds(4);

  private static SignRequest signRequest() throws Exception {
    return SignRequest.newBuilder()
        .setKey(KeyRef.newBuilder().setName("ec-p256"))
        .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
        .setDigest(
            ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[] {1, 2})))
        .build();
  }

  @Test
  void deviceErrorForTwoSeconds_notServingWithinOneInterval_thenServingAgainByItself()
      throws Exception {
    FaultShim shim = FaultShim.create();
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .token(shim.openToken())
            .probeInterval(PROBE)
            .metrics(true)
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        HealthProbe health = new HealthProbe(ch, svc.metricsPort());
        KeyServiceBlockingStub stub = KeyServiceGrpc.newBlockingStub(ch);
        SignRequest req = signRequest();
        HealthProbe.await("serving at start", Duration.ofSeconds(20), () -> health.serving(true));
        assertThat(stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req).getSignature())
            .isNotEmpty();
        assertThat(health.metrics()).contains("keyhold_hsm_token_up{token=\"keyhold-test\"} 1.0");

        Duration fault = Duration.ofSeconds(2);
        long faultStart = System.nanoTime();
        shim.deviceError(fault);
        long faultEnd = faultStart + fault.toNanos();

        long down =
            HealthProbe.await(
                "NOT_SERVING through gRPC health and /readyz",
                Duration.ofSeconds(20),
                () -> health.serving(false));
        assertThat(Duration.ofNanos(down - faultStart)).isLessThanOrEqualTo(PROBE.plus(MARGIN));
        assertThat(health.http("/livez")).as("the process still works").isEqualTo(200);
        assertThat(health.http("/healthz")).isEqualTo(503);
        assertThat(health.metrics()).contains("keyhold_hsm_token_up{token=\"keyhold-test\"} 0.0");

        // Calls meanwhile: UNAVAILABLE HSM_FAILURE (retryable), answered while the device is
        // still failing, not after it recovers.
        if (System.nanoTime() < faultEnd - TimeUnit.MILLISECONDS.toNanos(500)) {
          GrpcErrors.assertFails(
              () -> stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req),
              Status.Code.UNAVAILABLE,
              ErrorReason.HSM_FAILURE);
        }

        long up =
            HealthProbe.await(
                "SERVING again through gRPC health and /readyz",
                Duration.ofSeconds(30),
                () -> health.serving(true));
        assertThat(up).isGreaterThan(faultEnd - TimeUnit.MILLISECONDS.toNanos(50));
        assertThat(Duration.ofNanos(up - faultEnd)).isLessThanOrEqualTo(PROBE.plus(MARGIN));
        for (int i = 0; i < 10; i++) {
          assertThat(stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req).getSignature())
              .isNotEmpty();
        }
        String scrape = health.metrics();
        assertThat(scrape).contains("keyhold_hsm_token_up{token=\"keyhold-test\"} 1.0");
        assertThat(scrape)
            .containsPattern(
                "keyhold_hsm_token_state_changes_total\\{state=\"not_serving\",token=\"keyhold-test\"\\}"
                    + " [1-9]")
            .containsPattern(
                "keyhold_hsm_token_state_changes_total\\{state=\"serving\",token=\"keyhold-test\"\\}"
                    + " [1-9]");
        assertThat(shim.counter("injected")).isPositive();
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
