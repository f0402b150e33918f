package dev.keyhold.client.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.TestKeyholdService;
import java.security.MessageDigest;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client's retry of UNAVAILABLE really happens: the fault shim makes the service's HSM answer
 * CKR_DEVICE_ERROR (UNAVAILABLE / HSM_FAILURE), and the service's own metrics count how many Sign
 * calls reached it: exactly {@code maxAttempts}, and once more on the next healthy call.
 */
class KeyholdClientRetryIT {

  @ParameterizedTest(name = "maxAttempts {0}")
  @ValueSource(ints = {1, 3})
  void unavailable_isRetriedUpToMaxAttempts_countedAtTheService(int maxAttempts) throws Exception {
    FaultShim shim = FaultShim.create();
    try (TestKeyholdService svc =
            TestKeyholdService.builder()
                .token(shim.openToken())
                .probeInterval(Duration.ofMillis(200))
                .start();
        KeyholdClient client =
            KeyholdClient.create(
                KeyholdClientConfig.builder()
                    .target(svc.target())
                    .trustedCa(svc.caCert())
                    .clientCertificate(svc.clientCert("test-client"), svc.clientKey("test-client"))
                    .authority("localhost")
                    .deadline(Duration.ofSeconds(20))
                    .maxAttempts(maxAttempts)
                    // Client-side health checking would keep retries away from a replica that
                    // reports NOT_SERVING; this test counts the attempts that reach the service.
                    .healthCheck(false)
                    .build())) {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(new byte[] {1, 2, 3});
      shim.failFunctions(FaultShim.DEVICE_ERROR, "C_Sign");

      Throwable t =
          catchThrowable(
              () -> client.sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256, digest));
      assertThat(t).isInstanceOf(KeyholdException.class);
      assertThat(((KeyholdException) t).isUnavailable()).as("failure: %s", t).isTrue();
      assertThat(svc.metrics().count("sign", "unavailable"))
          .as("Sign calls that reached the service")
          .isEqualTo(maxAttempts);

      shim.clear();
      // The device error took the token out of service; wait for the probe to bring it back.
      io.grpc.health.v1.HealthGrpc.HealthBlockingStub health =
          io.grpc.health.v1.HealthGrpc.newBlockingStub(svc.channel("test-client"));
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (health.check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus()
          != io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING) {
        assertThat(System.nanoTime()).as("token back in service within 30 s").isLessThan(until);
        Thread.sleep(50); // polling interval, not synchronization
      }
      assertThat(client.sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256, digest))
          .isNotEmpty();
      assertThat(svc.metrics().count("sign", "ok")).isEqualTo(1);
      assertThat(svc.metrics().count("sign", "unavailable")).isEqualTo(maxAttempts);
    }
  }
}
