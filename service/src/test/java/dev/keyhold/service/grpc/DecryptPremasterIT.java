package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DecryptPremaster against the real token, in both decrypt modes (raw RSA + depadding in the
 * service, and the CKM_RSA_PKCS fallback): round trips, and implicit rejection of corrupted
 * ciphertexts, wrong versions and wrong plaintext lengths.
 */
class DecryptPremasterIT {
  private static final int TLS12 = 0x0303;
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final Map<DecryptMode, TestKeyholdService> SERVICES =
      new EnumMap<>(DecryptMode.class);
  private static final Map<DecryptMode, ManagedChannel> CHANNELS = new EnumMap<>(DecryptMode.class);

  @BeforeAll
  static void start() {
    for (DecryptMode mode : DecryptMode.values()) {
      TestKeyholdService svc = TestKeyholdService.builder().decryptMode(mode).start();
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

  static Stream<Arguments> modeAndKey() {
    List<Arguments> out = new ArrayList<>();
    for (DecryptMode mode : DecryptMode.values()) {
      for (String key : List.of("rsa2048", "rsa3072")) {
        out.add(Arguments.of(mode, key));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_validCiphertext_returnsThePremasterExactly(DecryptMode mode, String key)
      throws Exception {
    byte[] pm = premaster(TLS12);

    byte[] out = decrypt(mode, key, pkcs1Encrypt(key, pm), TLS12);

    assertThat(out).isEqualTo(pm);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_olderClientVersion_roundTrips(DecryptMode mode, String key)
      throws Exception {
    byte[] pm = premaster(0x0301);

    assertThat(decrypt(mode, key, pkcs1Encrypt(key, pm), 0x0301)).isEqualTo(pm);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_corruptedCiphertext_returns48ByteSubstitute(DecryptMode mode, String key)
      throws Exception {
    byte[] pm = premaster(TLS12);
    byte[] ct = pkcs1Encrypt(key, pm);
    ct[ct.length / 2] ^= 0x01;

    byte[] out = decrypt(mode, key, ct, TLS12);

    assertThat(out).hasSize(48).isNotEqualTo(pm);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_wrongVersion_returns48ByteSubstitute(DecryptMode mode, String key)
      throws Exception {
    byte[] pm = premaster(TLS12);
    byte[] ct = pkcs1Encrypt(key, pm);

    byte[] out = decrypt(mode, key, ct, 0x0302);

    assertThat(out).hasSize(48).isNotEqualTo(pm);
    assertThat(Arrays.copyOfRange(out, 2, 48)).isNotEqualTo(Arrays.copyOfRange(pm, 2, 48));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_47BytePlaintext_returns48ByteSubstitute(DecryptMode mode, String key)
      throws Exception {
    byte[] pm = premaster(TLS12);
    byte[] shortPlain = Arrays.copyOf(pm, 47);

    byte[] out = decrypt(mode, key, pkcs1Encrypt(key, shortPlain), TLS12);

    assertThat(out).hasSize(48).isNotEqualTo(pm);
    assertThat(Arrays.copyOf(out, 47)).isNotEqualTo(shortPlain);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_49BytePlaintext_returns48ByteSubstitute(DecryptMode mode, String key)
      throws Exception {
    byte[] longPlain = Arrays.copyOf(premaster(TLS12), 49);
    longPlain[48] = 0x5a;

    byte[] out = decrypt(mode, key, pkcs1Encrypt(key, longPlain), TLS12);

    assertThat(out)
        .hasSize(48)
        .isNotEqualTo(Arrays.copyOf(longPlain, 48))
        .isNotEqualTo(Arrays.copyOfRange(longPlain, 1, 49));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_malformedBlocks_return48ByteSubstitutes(DecryptMode mode, String key)
      throws Exception {
    RSAPublicKey pub = publicKey(key);
    int k = (pub.getModulus().bitLength() + 7) / 8;
    byte[] pm = premaster(TLS12);
    List<byte[]> blocks = new ArrayList<>();
    byte[] valid = block(k, pm);
    byte[] type1 = valid.clone();
    type1[1] = 1;
    blocks.add(type1);
    byte[] zeroInPadding = valid.clone();
    zeroInPadding[5] = 0;
    blocks.add(zeroInPadding);
    byte[] noSeparator = valid.clone();
    noSeparator[k - 49] = 0x11;
    blocks.add(noSeparator);
    byte[] leadingByte = valid.clone();
    leadingByte[0] = 0x01;
    leadingByte[1] = 0x02;
    if (new BigInteger(1, leadingByte).compareTo(pub.getModulus()) < 0) {
      blocks.add(leadingByte);
    }

    assertThat(decrypt(mode, key, rawEncrypt(pub, valid), TLS12))
        .as("control: the well-formed block")
        .isEqualTo(pm);
    for (byte[] b : blocks) {
      assertThat(decrypt(mode, key, rawEncrypt(pub, b), TLS12)).hasSize(48).isNotEqualTo(pm);
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("modeAndKey")
  void decryptPremaster_ciphertextNotBelowTheModulus_returns48ByteSubstitute(
      DecryptMode mode, String key) throws Exception {
    RSAPublicKey pub = publicKey(key);
    int k = (pub.getModulus().bitLength() + 7) / 8;
    byte[] allOnes = new byte[k];
    Arrays.fill(allOnes, (byte) 0xff);
    byte[] modulus = toFixed(pub.getModulus(), k);

    for (byte[] ct : List.of(allOnes, modulus)) {
      byte[] first = decrypt(mode, key, ct, TLS12);
      assertThat(first).hasSize(48).isEqualTo(decrypt(mode, key, ct, TLS12));
    }
  }

  private static byte[] toFixed(BigInteger v, int k) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[k];
    System.arraycopy(
        b, Math.max(0, b.length - k), out, Math.max(0, k - b.length), Math.min(k, b.length));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DecryptMode.class)
  void decryptPremaster_sameBadCiphertextTwice_returnsTheSameSubstitute(DecryptMode mode)
      throws Exception {
    byte[] pm = premaster(TLS12);
    byte[] ct = pkcs1Encrypt("rsa2048", pm);
    ct[7] ^= 0x40;
    byte[] other = pkcs1Encrypt("rsa2048", Arrays.copyOf(pm, 47));

    byte[] first = decrypt(mode, "rsa2048", ct, TLS12);
    byte[] second = decrypt(mode, "rsa2048", ct, TLS12);
    byte[] otherVersion = decrypt(mode, "rsa2048", ct, 0x0302);
    byte[] otherCiphertext = decrypt(mode, "rsa2048", other, TLS12);

    assertThat(second).isEqualTo(first);
    assertThat(otherVersion).hasSize(48).isNotEqualTo(first);
    assertThat(otherCiphertext).hasSize(48).isNotEqualTo(first);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DecryptMode.class)
  void decryptPremaster_afterRejections_stillDecryptsValidCiphertexts(DecryptMode mode)
      throws Exception {
    for (int i = 0; i < 6; i++) {
      byte[] bad = pkcs1Encrypt("rsa2048", Arrays.copyOf(premaster(TLS12), 40 + i));
      assertThat(decrypt(mode, "rsa2048", bad, TLS12)).hasSize(48);
      byte[] pm = premaster(TLS12);
      assertThat(decrypt(mode, "rsa2048", pkcs1Encrypt("rsa2048", pm), TLS12)).isEqualTo(pm);
    }
    assertThat(SERVICES.get(mode).metrics().count("decrypt_premaster", "unavailable")).isZero();
  }

  private static KeyServiceBlockingStub stub(DecryptMode mode) {
    return KeyServiceGrpc.newBlockingStub(CHANNELS.get(mode))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static byte[] decrypt(DecryptMode mode, String key, byte[] ct, int version) {
    return stub(mode)
        .decryptPremaster(
            DecryptPremasterRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName(key))
                .setCiphertext(ByteString.copyFrom(ct))
                .setClientVersion(version)
                .build())
        .getPremaster()
        .toByteArray();
  }

  private static RSAPublicKey publicKey(String key) throws Exception {
    byte[] spki =
        stub(DecryptMode.RAW)
            .getKey(GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName(key)).build())
            .getSpkiDer()
            .toByteArray();
    return (RSAPublicKey)
        KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki));
  }

  static byte[] premaster(int version) {
    byte[] pm = new byte[48];
    RANDOM.nextBytes(pm);
    pm[0] = (byte) (version >>> 8);
    pm[1] = (byte) version;
    return pm;
  }

  private static byte[] pkcs1Encrypt(String key, byte[] plain) throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.ENCRYPT_MODE, publicKey(key));
    return c.doFinal(plain);
  }

  private static byte[] rawEncrypt(RSAPublicKey pub, byte[] block) throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, pub);
    return c.doFinal(block);
  }

  /** A well-formed PKCS#1 v1.5 encryption block 00 02 PS 00 M of k bytes. */
  static byte[] block(int k, byte[] message) {
    byte[] em = new byte[k];
    em[1] = 2;
    for (int i = 2; i < k - message.length - 1; i++) {
      em[i] = (byte) (1 + RANDOM.nextInt(255));
    }
    System.arraycopy(message, 0, em, k - message.length, message.length);
    return em;
  }
}
