package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig.VerifyMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The RSA-CRT fault check, end to end: the fault shim flips a bit of what the real SoftHSM token
 * signs (C_Sign, and C_Decrypt for the raw RSA under PSS), and the service must answer INTERNAL /
 * SIGNATURE_FAULT instead of returning the signature: for every scheme of every test key with
 * {@code hsm.verifySignatures: all}, for every RSA scheme with {@code rsa}. With {@code rsa} a
 * corrupted ECDSA signature is returned as is (the documented trade-off); the test shows that it
 * does not verify, so the shim really corrupted it.
 */
class SignatureFaultIT {
  private static final List<String> KEYS =
      List.of("rsa1024", "rsa2048", "rsa3072", "ec-p256", "ec-p384", "ec-p521");

  private static final Map<VerifyMode, FaultShim> shims = new EnumMap<>(VerifyMode.class);
  private static final Map<VerifyMode, TestKeyholdService> services =
      new EnumMap<>(VerifyMode.class);
  private static final Map<VerifyMode, ManagedChannel> channels = new EnumMap<>(VerifyMode.class);

  @BeforeAll
  static synchronized void start() {
    if (!channels.isEmpty()) {
      return; // already started for the argument source
    }
    for (VerifyMode mode : VerifyMode.values()) {
      FaultShim shim = FaultShim.create();
      shims.put(mode, shim);
      TestKeyholdService svc =
          TestKeyholdService.builder().token(shim.openToken()).verifySignatures(mode).start();
      services.put(mode, svc);
      channels.put(mode, svc.channel("test-client"));
    }
  }

  @AfterAll
  static void stop() throws InterruptedException {
    for (ManagedChannel ch : channels.values()) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    services.values().forEach(TestKeyholdService::close);
  }

  @AfterEach
  void clearFaults() {
    shims.values().forEach(FaultShim::clear);
  }

  static Stream<Arguments> modeKeyAndScheme() throws Exception {
    List<Arguments> out = new ArrayList<>();
    for (VerifyMode mode : VerifyMode.values()) {
      for (String key : KEYS) {
        KeyInfo info = keyInfo(mode, key);
        for (SignatureScheme s : SignatureScheme.values()) {
          if (s.fits(info.getKeyType(), info.getKeyBits(), curve(info))) {
            out.add(Arguments.of(mode, key, s));
          }
        }
      }
    }
    assertThat(out).as("every scheme of every key, in both modes").hasSizeGreaterThan(20);
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("modeKeyAndScheme")
  void corruptedHsmSignature_isRefusedWithSignatureFault_unlessRsaModeAndEcdsa(
      VerifyMode mode, String key, SignatureScheme scheme) throws Exception {
    byte[] message =
        ("fault check " + key + " " + scheme.ianaName()).getBytes(StandardCharsets.UTF_8);
    SignRequest req =
        SignRequest.newBuilder()
            .setKey(KeyServiceIT.byName(key))
            .setScheme(scheme.codePoint())
            .setDigest(
                ByteString.copyFrom(
                    MessageDigest.getInstance(scheme.hash().jcaName()).digest(message)))
            .build();
    var pub = KeyServiceIT.publicKey(keyInfo(mode, key));

    // The same request succeeds and verifies without the fault: the refusal below is the check's.
    assertThat(
            KeyServiceIT.jdkVerify(
                scheme, pub, message, stub(mode).sign(req).getSignature().toByteArray()))
        .as("healthy HSM signature verifies")
        .isTrue();

    shims.get(mode).corruptSignatures();
    boolean checked = mode == VerifyMode.ALL || scheme.padding() != SignatureScheme.Padding.ECDSA;
    if (checked) {
      var e =
          GrpcErrors.assertFails(
              () -> stub(mode).sign(req), Status.Code.INTERNAL, ErrorReason.SIGNATURE_FAULT);
      assertThat(e.getStatus().getDescription()).contains(scheme.ianaName()).contains(key);
    } else {
      byte[] returned = stub(mode).sign(req).getSignature().toByteArray();
      assertThat(KeyServiceIT.jdkVerify(scheme, pub, message, returned))
          .as("verifySignatures: rsa returns the corrupted ECDSA signature unchecked")
          .isFalse();
    }

    shims.get(mode).clear();
    assertThat(
            KeyServiceIT.jdkVerify(
                scheme, pub, message, stub(mode).sign(req).getSignature().toByteArray()))
        .as("signs again once the HSM is healthy")
        .isTrue();
  }

  private static KeyServiceBlockingStub stub(VerifyMode mode) {
    return KeyServiceGrpc.newBlockingStub(channels.get(mode))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static KeyInfo keyInfo(VerifyMode mode, String key) {
    start(); // no-op once started; the argument source may run first
    return stub(mode).getKey(GetKeyRequest.newBuilder().setKey(KeyServiceIT.byName(key)).build());
  }

  private static String curve(KeyInfo info) {
    return info.getKeyType() == KeyType.KEY_TYPE_EC ? info.getCurve() : null;
  }
}
