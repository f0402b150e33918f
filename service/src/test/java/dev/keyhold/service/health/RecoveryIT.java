package dev.keyhold.service.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Recovery from HSM faults without a restart, through the fault shim: poisoned sessions (an
 * operation left active after a failed C_Decrypt, as tpm2-pkcs11 does), invalidated sessions and
 * throttling; and in {@code decryptMode: pkcs1}, an HSM failure is never answered with the
 * substitute premaster.
 */
class RecoveryIT {
  private static final int TLS12 = 0x0303;
  private static final SecureRandom RANDOM = new SecureRandom();

  private FaultShim shim;
  private TestKeyholdService svc;
  private ManagedChannel channel;
  private KeyServiceBlockingStub stub;

  private void start(DecryptMode mode) {
    shim = FaultShim.create();
    svc = TestKeyholdService.builder().token(shim.openToken()).decryptMode(mode).start();
    channel = svc.channel("test-client");
    stub = KeyServiceGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (svc != null) {
      svc.close();
    }
  }

  private KeyDescription key(String name) {
    return svc.server().keys().stream()
        .filter(k -> k.name().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private byte[] encrypt(byte[] premaster) throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
    c.init(Cipher.ENCRYPT_MODE, key("rsa2048").publicKey());
    return c.doFinal(premaster);
  }

  private static byte[] premaster() {
    byte[] pm = new byte[48];
    RANDOM.nextBytes(pm);
    pm[0] = 3;
    pm[1] = 3;
    return pm;
  }

  /** Below the modulus (leading zero) but not a PKCS#1 type 2 block. */
  private static byte[] badPadding() {
    byte[] ct = new byte[256];
    RANDOM.nextBytes(ct);
    ct[0] = 0;
    ct[1] = 0x42;
    return ct;
  }

  private byte[] decrypt(byte[] ciphertext) {
    return stub.withDeadlineAfter(20, TimeUnit.SECONDS)
        .decryptPremaster(
            DecryptPremasterRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("rsa2048"))
                .setCiphertext(ByteString.copyFrom(ciphertext))
                .setClientVersion(TLS12)
                .build())
        .getPremaster()
        .toByteArray();
  }

  private byte[] sign(String keyName, SignatureScheme scheme) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(premaster());
    byte[] sig =
        stub.withDeadlineAfter(20, TimeUnit.SECONDS)
            .sign(
                SignRequest.newBuilder()
                    .setKey(KeyRef.newBuilder().setName(keyName))
                    .setScheme(scheme.codePoint())
                    .setDigest(ByteString.copyFrom(digest))
                    .build())
            .getSignature()
            .toByteArray();
    assertThat(Signer.verify(key(keyName), scheme, digest, sig)).isTrue();
    return sig;
  }

  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void poisonedSessions_burstOfBadPaddingInterleavedWithValid_validGetTheirPremaster_serviceWorks(
      DecryptMode mode) throws Exception {
    start(mode);
    shim.poisonAfterFailed("C_Decrypt", "C_Sign");

    for (int i = 0; i < 24; i++) {
      byte[] bad = badPadding();
      byte[] substitute = decrypt(bad);
      assertThat(substitute).hasSize(48);
      assertThat(decrypt(bad)).as("the substitute is deterministic").isEqualTo(substitute);
      byte[] pm = premaster();
      assertThat(decrypt(encrypt(pm))).as("valid ciphertext %d", i).isEqualTo(pm);
      sign("rsa2048", SignatureScheme.RSA_PKCS1_SHA256);
    }
    if (mode == DecryptMode.PKCS1) {
      // SoftHSM rejected the padding (CKR_GENERAL_ERROR), the shim kept those sessions'
      // operations active, and the service met them and replaced its sessions.
      assertThat(shim.counter("poisoned_sessions") + shim.counter("operation_active")).isPositive();
      assertThat(svc.server().token().generation()).isGreaterThan(1);
    }

    // Fully working afterwards: every key, both operations, several rounds over the pool.
    for (int i = 0; i < 12; i++) {
      byte[] pm = premaster();
      assertThat(decrypt(encrypt(pm))).isEqualTo(pm);
      sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256);
      sign("rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA256);
    }
  }

  @Test
  void pkcs1_operationActiveOnDecryptInit_isHsmFailure_neverTheSubstitute() throws Exception {
    start(DecryptMode.PKCS1);
    byte[] pm = premaster();
    byte[] ct = encrypt(pm);
    assertThat(decrypt(ct)).isEqualTo(pm);

    // SunPKCS11 reports this as InvalidKeyException("init() failed"), which is not bad padding.
    shim.failFunctions("CKR_OPERATION_ACTIVE", "C_DecryptInit");
    GrpcErrors.assertFails(() -> decrypt(ct), Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE);
    shim.failFunctions(FaultShim.DEVICE_ERROR, "C_Decrypt");
    GrpcErrors.assertFails(() -> decrypt(ct), Status.Code.UNAVAILABLE, ErrorReason.HSM_FAILURE);

    shim.clear();
    assertThat(decrypt(ct)).isEqualTo(pm);
  }

  @Test
  void invalidatedSessions_theServiceLogsInAgainAndKeepsServing() throws Exception {
    start(DecryptMode.RAW);
    sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256);

    shim.invalidateSessions();
    for (int i = 0; i < 12; i++) {
      sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256);
      byte[] pm = premaster();
      assertThat(decrypt(encrypt(pm))).isEqualTo(pm);
    }

    assertThat(shim.counter("invalidations")).isEqualTo(1);
    assertThat(svc.server().token().generation()).isGreaterThan(1);
  }

  @Test
  void throttled_retriedWithBackoff_thenSucceeds() throws Exception {
    start(DecryptMode.RAW);
    sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256);

    shim.throttle(3);
    sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256);

    assertThat(shim.counter("throttled")).isEqualTo(3);
    assertThat(Arrays.asList(svc.server().token().generation())).containsExactly(1L);
  }
}
