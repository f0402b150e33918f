package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.SunPkcs11Profile;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.keys.TokenState;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * The fault shim really reaches SunPKCS11: plain JCA through a SunPKCS11 provider configured on the
 * shim, with the real SoftHSM test token behind it, and the Keyhold service served from it. Each
 * test has a shim (and so a provider and SoftHSM instance) of its own, because several faults leave
 * the provider's sessions broken on purpose.
 */
class FaultShimIT {
  private static final long CKR_DEVICE_ERROR = 0x30;
  private static final long CKR_OPERATION_ACTIVE = 0x90;
  private static final long CKR_SESSION_CLOSED = 0xB0;
  private static final long CKR_SESSION_HANDLE_INVALID = 0xB3;
  private static final long CKR_FUNCTION_REJECTED = 0x200;
  private static final AtomicInteger PROVIDERS = new AtomicInteger();
  private static final byte[] SHA256_DIGEST_INFO =
      HexFormat.of().parseHex("3031300d060960864801650304020105000420");
  private static final byte[] MESSAGE = "ServerKeyExchange params".getBytes(StandardCharsets.UTF_8);

  private FaultShim shim;
  private Provider provider;
  private PrivateKey rsa;
  private PublicKey rsaPublic;

  @BeforeEach
  void openThroughShim() throws Exception {
    shim = FaultShim.create();
    HsmConfig cfg = shim.hsmConfig();
    provider =
        Security.getProvider("SunPKCS11")
            .configure(
                "--"
                    + SunPkcs11Profile.render(
                        cfg,
                        TokenLocator.resolve(cfg),
                        "FaultShimIT-" + PROVIDERS.incrementAndGet()));
    KeyStore ks = KeyStore.getInstance("PKCS11", provider);
    char[] pin = cfg.pin().read();
    try {
      ks.load(null, pin);
    } finally {
      Arrays.fill(pin, '\0');
    }
    rsa = (PrivateKey) ks.getKey("rsa2048", null);
    rsaPublic = ks.getCertificate("rsa2048").getPublicKey();
    assertThat(rsa).as("rsa2048 on the test token, seen through the shim").isNotNull();
  }

  /**
   * PKCS#1 v1.5 over SHA-256 as the service does it: NONEwithRSA over the DigestInfo, one C_Sign
   * (SunPKCS11's SHA256withRSA would use C_SignUpdate and C_SignFinal instead).
   */
  private byte[] sign() throws Exception {
    Signature s = Signature.getInstance("NONEwithRSA", provider);
    s.initSign(rsa);
    s.update(SHA256_DIGEST_INFO);
    s.update(MessageDigest.getInstance("SHA-256").digest(MESSAGE));
    return s.sign();
  }

  /** A valid PKCS#1 v1.5 ciphertext of a 48-byte premaster, made with the public key. */
  private byte[] decrypt() throws Exception {
    Cipher enc = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
    enc.init(Cipher.ENCRYPT_MODE, rsaPublic);
    byte[] premaster = new byte[48];
    Arrays.fill(premaster, (byte) 3);
    Cipher dec = Cipher.getInstance("RSA/ECB/PKCS1Padding", provider);
    dec.init(Cipher.DECRYPT_MODE, rsa);
    return dec.doFinal(enc.doFinal(premaster));
  }

  private boolean verifies(byte[] sig) throws Exception {
    Signature v = Signature.getInstance("SHA256withRSA", "SunRsaSign");
    v.initVerify(rsaPublic);
    v.update(MESSAGE);
    return v.verify(sig);
  }

  /** The PKCS#11 return code somewhere in the failure's causes. */
  private static long pkcs11Code(Throwable t) {
    return pkcs11Exception(t).getErrorCode();
  }

  private static PKCS11Exception pkcs11Exception(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof PKCS11Exception p) {
        return p;
      }
    }
    throw new AssertionError("no PKCS11Exception among the causes of " + t, t);
  }

  @Test
  void passThrough_signs_andTheShimIsLoaded() throws Exception {
    assertThat(verifies(sign())).isTrue();
    assertThat(decrypt()).hasSize(48).containsOnly(3);
    assertThat(shim.counters()).containsEntry("injected", 0L).containsKey("hung");
  }

  @Test
  void fail_onSignForAWhile_throwsSignatureExceptionWithDeviceError_thenWorksAgain()
      throws Exception {
    Duration window = Duration.ofMillis(700);
    long until = System.currentTimeMillis() + window.toMillis();
    shim.fail(FaultShim.DEVICE_ERROR, window, "C_Sign");

    Throwable t = catchThrowable(this::sign);

    // JDK 17's SunPKCS11 reports a failed C_Sign as a SignatureException (not a
    // ProviderException), with the PKCS11Exception a few causes down.
    assertThat(t).isInstanceOf(SignatureException.class);
    assertThat(pkcs11Code(t)).isEqualTo(CKR_DEVICE_ERROR);
    assertThat(pkcs11Exception(t)).hasMessageContaining("CKR_DEVICE_ERROR");
    byte[] sig = signOnceTheShimAllows(Duration.ofSeconds(20));
    assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(until);
    assertThat(verifies(sig)).isTrue();
    // The injected failure ended SoftHSM's operation too: the sessions are fine afterwards.
    for (int i = 0; i < 5; i++) {
      assertThat(verifies(sign())).isTrue();
    }
  }

  @Test
  void deviceError_everyFunction_failsTheWholeSignWithDeviceError_thenWorksAgain()
      throws Exception {
    shim.deviceError(Duration.ofMillis(700));

    assertThat(pkcs11Code(catchThrowable(this::sign))).isEqualTo(CKR_DEVICE_ERROR);
    assertThat(shim.counter("injected")).isPositive();
    assertThat(verifies(signOnceTheShimAllows(Duration.ofSeconds(20)))).isTrue();
  }

  /** Retries until a signature succeeds: the fault window is defined by the clock. */
  private byte[] signOnceTheShimAllows(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return sign();
      } catch (ProviderException | java.security.GeneralSecurityException e) {
        assertThat(pkcs11Code(e)).isEqualTo(CKR_DEVICE_ERROR);
        if (System.nanoTime() > deadline) {
          throw new AssertionError("still failing after " + timeout, e);
        }
        Thread.sleep(20);
      }
    }
  }

  @Test
  void invalidateSessions_nextOperationFailsWithASessionError() throws Exception {
    assertThat(verifies(sign())).isTrue();

    shim.invalidateSessions();
    Throwable t = catchThrowable(this::sign);

    assertThat(pkcs11Code(t)).isIn(CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED);
    assertThat(shim.counter("invalidations")).isEqualTo(1);
  }

  @Test
  void poisonAfterFailedDecrypt_badPaddingLeavesTheSessionWithAnActiveOperation() throws Exception {
    shim.poisonAfterFailed("C_Decrypt", "C_Sign");
    byte[] badPadding = new byte[256];
    Arrays.fill(badPadding, (byte) 0x42); // below the modulus, not PKCS#1 type 2
    badPadding[0] = 0;

    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding", provider);
    c.init(Cipher.DECRYPT_MODE, rsa);
    Throwable bad = catchThrowable(() -> c.doFinal(badPadding));

    assertThat(bad).as("SoftHSM itself rejects the padding").isNotNull();
    assertThat(shim.counter("poisoned_sessions")).isEqualTo(1);
    // SunPKCS11 puts the session back in its pool and hands its sessions out in turn: the
    // poisoned one comes back within a few operations, and fails again every time it does.
    int failures = 0;
    for (int i = 0; i < 40 && failures < 3; i++) {
      Throwable t = catchThrowable(i % 2 == 0 ? this::decrypt : this::sign);
      if (t != null) {
        assertThat(pkcs11Code(t)).as("operation %d", i).isEqualTo(CKR_OPERATION_ACTIVE);
        failures++;
      }
    }
    assertThat(failures).isEqualTo(3);
    assertThat(shim.counter("operation_active")).isEqualTo(3);
    assertThat(shim.counter("poisoned_sessions")).isEqualTo(1);

    // Closing the session (here: all of them) is what clears it.
    shim.invalidateSessions();
    assertThat(pkcs11Code(catchThrowable(this::sign)))
        .isIn(CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED);
    assertThat(shim.counter("poisoned_sessions")).isZero();
  }

  @Test
  void latency_delaysTheNamedFunction() throws Exception {
    sign(); // warm: provider lookup and first-use costs stay out of the measurement
    Duration latency = Duration.ofMillis(300);
    shim.latency(latency, "C_Sign");

    long start = System.nanoTime();
    byte[] sig = sign();
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(took).isGreaterThanOrEqualTo(latency);
    assertThat(verifies(sig)).isTrue();
  }

  @Test
  void hang_blocksTheCallUntilRelease() throws Exception {
    sign();
    shim.hang("C_Sign");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<byte[]> hung = pool.submit(this::sign);

      shim.awaitHung(1, Duration.ofSeconds(20));
      assertThat(hung).as("blocked in the shim").isNotDone();

      shim.release();
      assertThat(verifies(hung.get(20, TimeUnit.SECONDS))).isTrue();
      assertThat(shim.counter("hung")).isZero();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void throttle_answersTheThrottlingCodeNTimes_thenSigns() throws Exception {
    shim.throttle(3);

    for (int i = 0; i < 3; i++) {
      assertThat(pkcs11Code(catchThrowable(this::sign)))
          .as("call %d", i + 1)
          .isEqualTo(CKR_FUNCTION_REJECTED);
    }

    assertThat(verifies(sign())).isTrue();
    assertThat(shim.counter("throttled")).isEqualTo(3);
    shim.latency(Duration.ofMillis(1)); // rewriting the file does not re-arm the count
    assertThat(verifies(sign())).isTrue();
  }

  @Test
  void service_onTheShim_signs_answersHsmFailureOnDeviceError_andSignsAfterClear()
      throws Exception {
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .token(shim.openToken())
            .probeInterval(Duration.ofMillis(200))
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        KeyServiceBlockingStub stub =
            KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
        SignRequest req =
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("rsa2048"))
                .setScheme(SignatureScheme.RSA_PKCS1_SHA256.codePoint())
                .setDigest(
                    ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(MESSAGE)))
                .build();
        assertThat(verifies(stub.sign(req).getSignature().toByteArray())).isTrue();

        shim.failFunctions(FaultShim.DEVICE_ERROR, "C_Sign");
        GrpcErrors.assertFails(
            () -> stub.sign(req), Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE);

        shim.clear();
        // The failure made the service replace its sessions; once the token serves again (the
        // recovery or the next probe, within one probe interval) it signs.
        HealthProbe.await(
            "the token serves again",
            Duration.ofSeconds(30),
            () ->
                svc.server().token().state() == TokenState.SERVING
                    && svc.server().token().generation() > 1);
        assertThat(verifies(stub.sign(req).getSignature().toByteArray())).isTrue();
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
