package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.TestHsm;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The service on a key whose CKA_ALLOWED_MECHANISMS omit CKM_RSA_X_509 (SoftHSM enforces them; see
 * {@code pkcs11.NoRawRsaKeyIT} for the proof that raw RSA is refused): every RSA scheme signs (PSS
 * through CKM_RSA_PKCS_PSS), and DecryptPremaster works in both configured decrypt modes
 * (CKM_RSA_PKCS, with the implicit-rejection key derived by a CKM_RSA_PKCS signature).
 */
class NoRawRsaIT {
  private static final int TLS12 = 0x0303;
  private static final String KEY = TestHsm.NO_RAW_RSA_KEY;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Map<DecryptMode, TestKeyholdService> SERVICES =
      new EnumMap<>(DecryptMode.class);
  private static final Map<DecryptMode, ManagedChannel> CHANNELS = new EnumMap<>(DecryptMode.class);

  @BeforeAll
  static void start() {
    for (DecryptMode mode : DecryptMode.values()) {
      TestKeyholdService svc =
          TestKeyholdService.builder().noRawRsaToken().decryptMode(mode).start();
      SERVICES.put(mode, svc);
      CHANNELS.put(mode, svc.channel("test-client"));
    }
  }

  @AfterAll
  static void stop() throws InterruptedException {
    for (DecryptMode mode : DecryptMode.values()) {
      CHANNELS.get(mode).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      SERVICES.get(mode).close();
    }
  }

  static Stream<SignatureScheme> rsaSchemes() {
    return Arrays.stream(SignatureScheme.values())
        .filter(s -> s.padding() != SignatureScheme.Padding.ECDSA);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rsaSchemes")
  void sign_keyWithoutRawRsa_signsEveryRsaSchemeVerifiably(SignatureScheme scheme)
      throws Exception {
    byte[] message = ("no raw RSA " + scheme.ianaName()).getBytes(StandardCharsets.UTF_8);
    byte[] digest = MessageDigest.getInstance(scheme.hash().jcaName()).digest(message);

    byte[] sig =
        stub(DecryptMode.RAW)
            .sign(
                SignRequest.newBuilder()
                    .setKey(KeyRef.newBuilder().setName(KEY))
                    .setScheme(scheme.codePoint())
                    .setDigest(ByteString.copyFrom(digest))
                    .build())
            .getSignature()
            .toByteArray();

    Signature v =
        Signature.getInstance(
            scheme.padding() == SignatureScheme.Padding.PSS
                ? "RSASSA-PSS"
                : scheme.hash().jcaName().replace("-", "") + "withRSA");
    if (scheme.padding() == SignatureScheme.Padding.PSS) {
      v.setParameter(scheme.pssParameters());
    }
    v.initVerify(publicKey());
    v.update(message);
    assertThat(v.verify(sig)).as("JDK verifies %s", scheme.ianaName()).isTrue();
    assertThat(sig).hasSize(256);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DecryptMode.class)
  void decryptPremaster_keyWithoutRawRsa_returnsThePremaster(DecryptMode mode) throws Exception {
    byte[] pm = premaster();

    assertThat(decrypt(mode, encrypt(pm), TLS12)).isEqualTo(pm);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DecryptMode.class)
  void decryptPremaster_keyWithoutRawRsa_badCiphertextsGetADeterministicSubstitute(DecryptMode mode)
      throws Exception {
    byte[] pm = premaster();
    byte[] corrupted = encrypt(pm);
    corrupted[9] ^= 0x20;
    byte[] shortPlain = encrypt(Arrays.copyOf(pm, 47));

    byte[] first = decrypt(mode, corrupted, TLS12);
    byte[] again = decrypt(mode, corrupted, TLS12);
    byte[] wrongVersion = decrypt(mode, encrypt(pm), 0x0302);
    byte[] wrongLength = decrypt(mode, shortPlain, TLS12);

    assertThat(first).hasSize(48).isNotEqualTo(pm).isEqualTo(again);
    assertThat(wrongVersion).hasSize(48).isNotEqualTo(pm);
    assertThat(wrongLength).hasSize(48).isNotEqualTo(first);
    // Both configured modes run CKM_RSA_PKCS on this key, with the same derived key.
    assertThat(decrypt(DecryptMode.RAW, corrupted, TLS12))
        .isEqualTo(decrypt(DecryptMode.PKCS1, corrupted, TLS12));
    assertThat(SERVICES.get(mode).metrics().count("decrypt_premaster", "unavailable")).isZero();
  }

  private static byte[] premaster() {
    byte[] pm = new byte[48];
    RANDOM.nextBytes(pm);
    pm[0] = (byte) (TLS12 >>> 8);
    pm[1] = (byte) TLS12;
    return pm;
  }

  private static byte[] encrypt(byte[] plain) throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.ENCRYPT_MODE, publicKey());
    return c.doFinal(plain);
  }

  private static RSAPublicKey publicKey() throws Exception {
    byte[] spki =
        stub(DecryptMode.RAW)
            .getKey(GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName(KEY)).build())
            .getSpkiDer()
            .toByteArray();
    return (RSAPublicKey)
        KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki));
  }

  private static KeyServiceBlockingStub stub(DecryptMode mode) {
    return KeyServiceGrpc.newBlockingStub(CHANNELS.get(mode))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static byte[] decrypt(DecryptMode mode, byte[] ct, int version) {
    return stub(mode)
        .decryptPremaster(
            DecryptPremasterRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName(KEY))
                .setCiphertext(ByteString.copyFrom(ct))
                .setClientVersion(version)
                .build())
        .getPremaster()
        .toByteArray();
  }
}
