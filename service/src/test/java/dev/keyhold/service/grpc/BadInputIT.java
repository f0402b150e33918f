package dev.keyhold.service.grpc;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static dev.keyhold.service.testing.GrpcErrors.failure;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.ServiceClients;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every malformed request gets its documented status and ErrorInfo reason, names the problem
 * without echoing payloads, and leaves the service serving.
 */
class BadInputIT {
  @RegisterExtension static final ServiceClients clients = new ServiceClients();

  @AfterEach
  void serviceStillServes() {
    byte[] digest = new byte[32];
    SignRequest ok = sign("ec-p256", SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint(), digest);
    assertThat(clients.stub(ServiceClients.TEST).sign(ok).getSignature().isEmpty())
        .as("service still serves after the bad request")
        .isFalse();
  }

  private static SignRequest sign(String key, int scheme, byte[] digest) {
    return SignRequest.newBuilder()
        .setKey(KeyRef.newBuilder().setName(key))
        .setScheme(scheme)
        .setDigest(ByteString.copyFrom(digest))
        .build();
  }

  private static DecryptPremasterRequest decrypt(String key, int ctLength, int version) {
    return DecryptPremasterRequest.newBuilder()
        .setKey(KeyRef.newBuilder().setName(key))
        .setCiphertext(ByteString.copyFrom(new byte[ctLength]))
        .setClientVersion(version)
        .build();
  }

  @Test
  void sign_unknownKeyAndForbiddenKey_getTheSameNotFoundAnswer() {
    byte[] digest = new byte[32];
    int scheme = SignatureScheme.RSA_PKCS1_SHA256.codePoint();

    StatusRuntimeException unknown =
        assertFails(
            () -> clients.stub(ServiceClients.LIMITED).sign(sign("no-such-key", scheme, digest)),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);
    StatusRuntimeException forbidden =
        assertFails(
            () -> clients.stub(ServiceClients.LIMITED).sign(sign("rsa2048", scheme, digest)),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);

    assertThat(forbidden.getStatus().getDescription().replace("rsa2048", "X"))
        .isEqualTo(unknown.getStatus().getDescription().replace("no-such-key", "X"));
  }

  @Test
  void decryptPremaster_forbiddenOperationOnPermittedKey_getsTheSameNotFoundAnswerAsUnknownKey() {
    StatusRuntimeException forbiddenOp =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.LIMITED)
                    .decryptPremaster(decrypt("ec-p256", 256, 0x0303)),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);
    StatusRuntimeException unknown =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.LIMITED)
                    .decryptPremaster(decrypt("ec-p999", 256, 0x0303)),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);

    assertThat(forbiddenOp.getStatus().getDescription().replace("ec-p256", "X"))
        .isEqualTo(unknown.getStatus().getDescription().replace("ec-p999", "X"));
  }

  @Test
  void getKey_unknownKeyAndKeyOfNoPermission_getTheSameNotFoundAnswer() {
    StatusRuntimeException unknown =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.OTHER)
                    .getKey(
                        GetKeyRequest.newBuilder()
                            .setKey(KeyRef.newBuilder().setName("nope-key"))
                            .build()),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);
    StatusRuntimeException forbidden =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.OTHER)
                    .getKey(
                        GetKeyRequest.newBuilder()
                            .setKey(KeyRef.newBuilder().setName("rsa2048"))
                            .build()),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);

    assertThat(forbidden.getStatus().getDescription().replace("rsa2048", "X"))
        .isEqualTo(unknown.getStatus().getDescription().replace("nope-key", "X"));
  }

  @Test
  void getKey_unknownSpkiSha256AndForbiddenSpkiSha256_getTheSameNotFoundAnswer() {
    ByteString realSpki =
        clients
            .stub(ServiceClients.TEST)
            .getKey(
                GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName("rsa3072")).build())
            .getSpkiSha256();
    byte[] fake = realSpki.toByteArray();
    fake[0] ^= 1;

    StatusRuntimeException forbidden =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.LIMITED)
                    .getKey(
                        GetKeyRequest.newBuilder()
                            .setKey(KeyRef.newBuilder().setSpkiSha256(realSpki))
                            .build()),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);
    StatusRuntimeException unknown =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.LIMITED)
                    .getKey(
                        GetKeyRequest.newBuilder()
                            .setKey(KeyRef.newBuilder().setSpkiSha256(ByteString.copyFrom(fake)))
                            .build()),
            Status.Code.NOT_FOUND,
            ErrorReason.KEY_NOT_FOUND);

    assertThat(forbidden.getStatus().getDescription().length())
        .isEqualTo(unknown.getStatus().getDescription().length());
  }

  @Test
  void sign_rsaSchemeOnEcKey_isInvalidArgumentSchemeKeyMismatch() {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .sign(
                        sign(
                            "ec-p256",
                            SignatureScheme.RSA_PSS_RSAE_SHA256.codePoint(),
                            new byte[32])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.SCHEME_KEY_MISMATCH);

    assertThat(e.getStatus().getDescription()).contains("rsa_pss_rsae_sha256").contains("ec-p256");
  }

  @Test
  void sign_ecdsaSchemeOfOtherCurve_isInvalidArgumentSchemeKeyMismatch() {
    assertFails(
        () ->
            clients
                .stub(ServiceClients.TEST)
                .sign(
                    sign(
                        "ec-p256",
                        SignatureScheme.ECDSA_SECP384R1_SHA384.codePoint(),
                        new byte[48])),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.SCHEME_KEY_MISMATCH);
  }

  @Test
  void sign_pssSha512OnRsa1024_isInvalidArgumentSchemeKeyMismatch() {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .sign(
                        sign(
                            "rsa1024",
                            SignatureScheme.RSA_PSS_RSAE_SHA512.codePoint(),
                            new byte[64])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.SCHEME_KEY_MISMATCH);

    assertThat(e.getStatus().getDescription()).contains("rsa1024");
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {1, 20, 31, 33, 48, 64})
  void sign_wrongDigestLength_isInvalidArgumentDigestLength(int length) {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .sign(
                        sign(
                            "rsa2048",
                            SignatureScheme.RSA_PKCS1_SHA256.codePoint(),
                            new byte[length])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.DIGEST_LENGTH);

    assertThat(e.getStatus().getDescription()).contains(length + " bytes").contains("32");
  }

  @Test
  void sign_emptyDigest_isInvalidArgumentMissingField() {
    assertFails(
        () ->
            clients
                .stub(ServiceClients.TEST)
                .sign(sign("rsa2048", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), new byte[0])),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @ParameterizedTest(name = "0x{0}")
  @ValueSource(ints = {0x0201, 0x0203, 0x0101, 0x0807, 0x0809, 0xffff})
  void sign_unknownOrLegacyScheme_isInvalidArgumentUnknownScheme(int scheme) {
    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).sign(sign("rsa2048", scheme, new byte[20])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.UNKNOWN_SCHEME);

    assertThat(e.getStatus().getDescription()).contains(String.format("0x%04x", scheme));
  }

  @Test
  void sign_missingScheme_isInvalidArgumentMissingField() {
    assertFails(
        () -> clients.stub(ServiceClients.TEST).sign(sign("rsa2048", 0, new byte[32])),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @Test
  void sign_emptyRequest_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).sign(SignRequest.getDefaultInstance()),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription()).contains("key");
  }

  @Test
  void sign_emptyKeyName_isInvalidArgumentMissingField() {
    assertFails(
        () ->
            clients
                .stub(ServiceClients.TEST)
                .sign(sign("", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), new byte[32])),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @Test
  void getKey_emptySpkiSha256_isInvalidArgumentMissingField() {
    assertFails(
        () ->
            clients
                .stub(ServiceClients.TEST)
                .getKey(
                    GetKeyRequest.newBuilder()
                        .setKey(KeyRef.newBuilder().setSpkiSha256(ByteString.EMPTY))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @Test
  void decryptPremaster_emptyRequest_isInvalidArgumentMissingField() {
    assertFails(
        () ->
            clients
                .stub(ServiceClients.TEST)
                .decryptPremaster(DecryptPremasterRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @Test
  void decryptPremaster_emptyCiphertext_isInvalidArgumentMissingField() {
    assertFails(
        () -> clients.stub(ServiceClients.TEST).decryptPremaster(decrypt("rsa2048", 0, 0x0303)),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @Test
  void getKey_emptyRequest_isInvalidArgumentMissingField() {
    assertFails(
        () -> clients.stub(ServiceClients.TEST).getKey(GetKeyRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD);
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {1, 128, 255, 257, 384, 512})
  void decryptPremaster_ciphertextNotModulusLength_isInvalidArgumentCiphertextLength(int length) {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .decryptPremaster(decrypt("rsa2048", length, 0x0303)),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.CIPHERTEXT_LENGTH);

    assertThat(e.getStatus().getDescription()).contains(length + " bytes").contains("256");
  }

  @Test
  void decryptPremaster_ecKey_isInvalidArgumentSchemeKeyMismatch() {
    assertFails(
        () -> clients.stub(ServiceClients.TEST).decryptPremaster(decrypt("ec-p256", 256, 0x0303)),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.SCHEME_KEY_MISMATCH);
  }

  @ParameterizedTest(name = "0x{0}")
  @ValueSource(ints = {0, 0x0002, 0x02ff, 0x0304, 0x7f1c, 0x10303})
  void decryptPremaster_clientVersionOutOfRange_isInvalidArgumentClientVersion(int version) {
    assertFails(
        () -> clients.stub(ServiceClients.TEST).decryptPremaster(decrypt("rsa2048", 256, version)),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.CLIENT_VERSION);
  }

  @Test
  void sign_oversizedRequest_isResourceExhausted() {
    SignRequest huge =
        sign("rsa2048", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), new byte[17 * 1024]);

    StatusRuntimeException e = failure(() -> clients.stub(ServiceClients.TEST).sign(huge));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void decryptPremaster_oversizedRequest_isResourceExhausted() {
    StatusRuntimeException e =
        failure(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .decryptPremaster(decrypt("rsa2048", 16 * 1024 + 1, 0x0303)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void sign_expiredDeadline_isDeadlineExceeded() {
    KeyServiceBlockingStub expired =
        KeyServiceGrpc.newBlockingStub(clients.channel(ServiceClients.TEST))
            .withDeadlineAfter(-1, TimeUnit.SECONDS);

    StatusRuntimeException e =
        failure(
            () ->
                expired.sign(
                    sign(
                        "ec-p256",
                        SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint(),
                        new byte[32])));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void listKeys_otherClient_getsAnEmptyListNotAnError() {
    assertThat(
            clients
                .stub(ServiceClients.OTHER)
                .listKeys(ListKeysRequest.getDefaultInstance())
                .getKeysCount())
        .isZero();
  }

  @Test
  void errors_descriptionsNeverEchoThePayload() {
    byte[] digest = new byte[31];
    java.util.Arrays.fill(digest, (byte) 0xab);
    StatusRuntimeException e =
        failure(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .sign(sign("rsa2048", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), digest)));

    assertThat(e.getStatus().getDescription().toLowerCase())
        .doesNotContain("abab")
        .doesNotContain("q6ur");
  }
}
