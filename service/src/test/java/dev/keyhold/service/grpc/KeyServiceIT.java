package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.ServiceClients;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sign, GetKey and ListKeys against the real SoftHSM token, verified with the JDK's own verifiers.
 */
class KeyServiceIT {
  /** The test token's keys: name, type, bits, curve. */
  private record TestKey(String name, KeyType type, int bits, String curve) {}

  private static final List<TestKey> KEYS =
      List.of(
          new TestKey("rsa1024", KeyType.KEY_TYPE_RSA, 1024, null),
          new TestKey("rsa2048", KeyType.KEY_TYPE_RSA, 2048, null),
          new TestKey("rsa3072", KeyType.KEY_TYPE_RSA, 3072, null),
          new TestKey("ec-p256", KeyType.KEY_TYPE_EC, 256, "secp256r1"),
          new TestKey("ec-p384", KeyType.KEY_TYPE_EC, 384, "secp384r1"),
          new TestKey("ec-p521", KeyType.KEY_TYPE_EC, 521, "secp521r1"));

  @RegisterExtension static final ServiceClients clients = new ServiceClients();

  static Stream<Arguments> keyAndScheme() {
    List<Arguments> out = new ArrayList<>();
    for (TestKey k : KEYS) {
      for (SignatureScheme s : SignatureScheme.values()) {
        if (s.fits(k.type(), k.bits(), k.curve())) {
          out.add(Arguments.of(k.name(), s));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("keyAndScheme")
  void sign_everySchemeOfEveryKey_verifiesWithJdkVerifierAndGetKeyPublicKey(
      String keyName, SignatureScheme scheme) throws Exception {
    KeyInfo info =
        clients
            .stub(ServiceClients.TEST)
            .getKey(GetKeyRequest.newBuilder().setKey(byName(keyName)).build());
    PublicKey pub = publicKey(info);
    byte[] message =
        ("ServerKeyExchange params for " + keyName + " / " + scheme.ianaName())
            .getBytes(StandardCharsets.UTF_8);
    byte[] digest = MessageDigest.getInstance(scheme.hash().jcaName()).digest(message);

    byte[] sig =
        clients
            .stub(ServiceClients.TEST)
            .sign(
                SignRequest.newBuilder()
                    .setKey(byName(keyName))
                    .setScheme(scheme.codePoint())
                    .setDigest(ByteString.copyFrom(digest))
                    .build())
            .getSignature()
            .toByteArray();

    assertThat(jdkVerify(scheme, pub, message, sig))
        .as("JDK verifies %s with %s", scheme.ianaName(), keyName)
        .isTrue();
    byte[] other = Arrays.copyOf(message, message.length + 1);
    assertThat(jdkVerify(scheme, pub, other, sig))
        .as("signature is bound to the message")
        .isFalse();
    if (scheme.padding() != SignatureScheme.Padding.ECDSA) {
      assertThat(sig).hasSize(info.getKeyBits() / 8);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"rsa1024", "rsa2048", "rsa3072", "ec-p256", "ec-p384", "ec-p521"})
  void getKey_byNameAndBySpkiSha256_resolveToTheSameKey(String keyName) throws Exception {
    KeyInfo byName =
        clients
            .stub(ServiceClients.TEST)
            .getKey(GetKeyRequest.newBuilder().setKey(byName(keyName)).build());
    KeyInfo bySpki =
        clients
            .stub(ServiceClients.TEST)
            .getKey(
                GetKeyRequest.newBuilder()
                    .setKey(KeyRef.newBuilder().setSpkiSha256(byName.getSpkiSha256()))
                    .build());

    assertThat(bySpki).isEqualTo(byName);
    assertThat(byName.getName()).isEqualTo(keyName);
    assertThat(byName.getSpkiSha256().toByteArray())
        .isEqualTo(MessageDigest.getInstance("SHA-256").digest(byName.getSpkiDer().toByteArray()));
    X509Certificate leaf =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new ByteArrayInputStream(byName.getCertificateChain(0).toByteArray()));
    assertThat(leaf.getPublicKey().getEncoded()).isEqualTo(byName.getSpkiDer().toByteArray());
  }

  @Test
  void getKey_describesTypeSizeCurveAndExactlyTheFittingSchemes() {
    for (TestKey k : KEYS) {
      KeyInfo info =
          clients
              .stub(ServiceClients.TEST)
              .getKey(GetKeyRequest.newBuilder().setKey(byName(k.name())).build());
      List<Integer> expected =
          Arrays.stream(SignatureScheme.values())
              .filter(s -> s.fits(k.type(), k.bits(), k.curve()))
              .map(SignatureScheme::codePoint)
              .toList();
      assertThat(info.getKeyType()).as(k.name()).isEqualTo(k.type());
      assertThat(info.getKeyBits()).as(k.name()).isEqualTo(k.bits());
      assertThat(info.getCurve()).as(k.name()).isEqualTo(k.curve() == null ? "" : k.curve());
      assertThat(info.getSchemesList()).as(k.name()).containsExactlyInAnyOrderElementsOf(expected);
      // DecryptPremaster is offered only where it works: RSA keys.
      if (k.type() == KeyType.KEY_TYPE_RSA) {
        assertThat(info.getOperationsList())
            .as(k.name())
            .containsExactlyInAnyOrder(
                Operation.OPERATION_SIGN, Operation.OPERATION_DECRYPT_PREMASTER);
      } else {
        assertThat(info.getOperationsList()).as(k.name()).containsExactly(Operation.OPERATION_SIGN);
      }
    }
  }

  @Test
  void listKeys_testClient_listsEveryKeySortedByName() {
    List<KeyInfo> keys =
        clients
            .stub(ServiceClients.TEST)
            .listKeys(ListKeysRequest.getDefaultInstance())
            .getKeysList();

    assertThat(keys)
        .extracting(KeyInfo::getName)
        .containsExactly("ec-p256", "ec-p384", "ec-p521", "rsa1024", "rsa2048", "rsa3072");
  }

  @Test
  void listKeys_limitedClient_listsOnlyEcKeysWithSignOnly() {
    List<KeyInfo> keys =
        clients
            .stub(ServiceClients.LIMITED)
            .listKeys(ListKeysRequest.getDefaultInstance())
            .getKeysList();

    assertThat(keys).extracting(KeyInfo::getName).containsExactly("ec-p256", "ec-p384", "ec-p521");
    assertThat(keys)
        .allSatisfy(
            k -> assertThat(k.getOperationsList()).containsExactly(Operation.OPERATION_SIGN));
  }

  @Test
  void listKeys_otherClient_listsNothing() {
    assertThat(
            clients
                .stub(ServiceClients.OTHER)
                .listKeys(ListKeysRequest.getDefaultInstance())
                .getKeysList())
        .isEmpty();
  }

  @Test
  void sign_limitedClientOnPermittedEcKey_verifies() throws Exception {
    SignatureScheme scheme = SignatureScheme.ECDSA_SECP256R1_SHA256;
    byte[] message = "limited".getBytes(StandardCharsets.UTF_8);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(message);
    KeyInfo info =
        clients
            .stub(ServiceClients.LIMITED)
            .getKey(GetKeyRequest.newBuilder().setKey(byName("ec-p256")).build());

    byte[] sig =
        clients
            .stub(ServiceClients.LIMITED)
            .sign(
                SignRequest.newBuilder()
                    .setKey(byName("ec-p256"))
                    .setScheme(scheme.codePoint())
                    .setDigest(ByteString.copyFrom(digest))
                    .build())
            .getSignature()
            .toByteArray();

    assertThat(jdkVerify(scheme, publicKey(info), message, sig)).isTrue();
    assertThat(info.getOperationsList()).containsExactly(Operation.OPERATION_SIGN);
  }

  static KeyRef byName(String name) {
    return KeyRef.newBuilder().setName(name).build();
  }

  static PublicKey publicKey(KeyInfo info) throws Exception {
    String alg = info.getKeyType() == KeyType.KEY_TYPE_RSA ? "RSA" : "EC";
    return KeyFactory.getInstance(alg)
        .generatePublic(new X509EncodedKeySpec(info.getSpkiDer().toByteArray()));
  }

  /** Verifies over the whole message with the JDK's default providers (no Keyhold code). */
  static boolean jdkVerify(SignatureScheme scheme, PublicKey pub, byte[] message, byte[] sig)
      throws Exception {
    Signature v = Signature.getInstance(scheme.jcaSignatureName());
    if (scheme.pssParameters() != null) {
      v.setParameter(scheme.pssParameters());
    }
    v.initVerify(pub);
    v.update(message);
    try {
      return v.verify(sig);
    } catch (java.security.SignatureException e) {
      return false;
    }
  }
}
