package dev.keyhold.service.grpc;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static dev.keyhold.service.testing.GrpcErrors.failure;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.ServiceClients;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.HexFormat;
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

  /** The test service's {@code maxMessageBytes}. */
  private static final int LIMIT = 16 * 1024;

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

    assertThat(unknown.getStatus().getDescription())
        .isEqualTo("key 'no-such-key' does not exist or is not available to this client for sign");
    assertThat(forbidden.getStatus().getDescription())
        .isEqualTo("key 'rsa2048' does not exist or is not available to this client for sign");
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

    assertThat(forbiddenOp.getStatus().getDescription())
        .isEqualTo(
            "key 'ec-p256' does not exist or is not available to this client for "
                + "decrypt_premaster");
    assertThat(unknown.getStatus().getDescription())
        .isEqualTo(
            "key 'ec-p999' does not exist or is not available to this client for "
                + "decrypt_premaster");
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

    assertThat(unknown.getStatus().getDescription())
        .isEqualTo(
            "key 'nope-key' does not exist or is not available to this client for any operation");
    assertThat(forbidden.getStatus().getDescription())
        .isEqualTo(
            "key 'rsa2048' does not exist or is not available to this client for any operation");
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

    assertThat(forbidden.getStatus().getDescription())
        .isEqualTo(
            "key spki-sha256:"
                + HexFormat.of().formatHex(realSpki.toByteArray())
                + " does not exist or is not available to this client for any operation");
    assertThat(unknown.getStatus().getDescription())
        .isEqualTo(
            "key spki-sha256:"
                + HexFormat.of().formatHex(fake)
                + " does not exist or is not available to this client for any operation");
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
    StatusRuntimeException e =
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

    assertThat(e.getStatus().getDescription())
        .startsWith("scheme ecdsa_secp384r1_sha384 does not suit key 'ec-p256' (");
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
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .sign(
                        sign("rsa2048", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), new byte[0])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription()).isEqualTo("digest is required");
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
    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).sign(sign("rsa2048", 0, new byte[32])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("scheme is required (a TLS SignatureScheme code point)");
  }

  @Test
  void sign_emptyRequest_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).sign(SignRequest.getDefaultInstance()),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("key is required (a name or an SPKI SHA-256)");
  }

  @Test
  void sign_emptyKeyName_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .sign(sign("", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), new byte[32])),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription()).isEqualTo("key name is empty");
  }

  @Test
  void getKey_emptySpkiSha256_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
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

    assertThat(e.getStatus().getDescription()).isEqualTo("key spki_sha256 is empty");
  }

  @Test
  void decryptPremaster_emptyRequest_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .decryptPremaster(DecryptPremasterRequest.getDefaultInstance()),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("key is required (a name or an SPKI SHA-256)");
  }

  @Test
  void decryptPremaster_emptyCiphertext_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).decryptPremaster(decrypt("rsa2048", 0, 0x0303)),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription()).isEqualTo("ciphertext is required");
  }

  @Test
  void getKey_emptyRequest_isInvalidArgumentMissingField() {
    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).getKey(GetKeyRequest.getDefaultInstance()),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.MISSING_FIELD);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("key is required (a name or an SPKI SHA-256)");
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
    StatusRuntimeException e =
        assertFails(
            () ->
                clients.stub(ServiceClients.TEST).decryptPremaster(decrypt("ec-p256", 256, 0x0303)),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.SCHEME_KEY_MISMATCH);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("key 'ec-p256' is not an RSA key; RSA key exchange needs one");
  }

  @ParameterizedTest(name = "0x{0}")
  @ValueSource(ints = {0, 0x0002, 0x02ff, 0x0304, 0x7f1c, 0x10303})
  void decryptPremaster_clientVersionOutOfRange_isInvalidArgumentClientVersion(int version) {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .decryptPremaster(decrypt("rsa2048", 256, version)),
            Status.Code.INVALID_ARGUMENT,
            ErrorReason.CLIENT_VERSION);

    assertThat(e.getStatus().getDescription())
        .isEqualTo(
            String.format(
                "client_version 0x%04x is not 0x0300..0x0303 (SSL 3.0 .. TLS 1.2)", version));
  }

  @Test
  void sign_oversizedRequest_isResourceExhausted() {
    SignRequest huge =
        sign("rsa2048", SignatureScheme.RSA_PKCS1_SHA256.codePoint(), new byte[17 * 1024]);

    StatusRuntimeException e =
        assertFails(
            () -> clients.stub(ServiceClients.TEST).sign(huge),
            Status.Code.RESOURCE_EXHAUSTED,
            ErrorReason.REQUEST_TOO_LARGE);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("the request is larger than the service's limit of " + LIMIT + " bytes");
  }

  @Test
  void decryptPremaster_oversizedRequest_isResourceExhausted() {
    StatusRuntimeException e =
        assertFails(
            () ->
                clients
                    .stub(ServiceClients.TEST)
                    .decryptPremaster(decrypt("rsa2048", 16 * 1024 + 1, 0x0303)),
            Status.Code.RESOURCE_EXHAUSTED,
            ErrorReason.REQUEST_TOO_LARGE);

    assertThat(e.getStatus().getDescription())
        .isEqualTo("the request is larger than the service's limit of " + LIMIT + " bytes");
  }

  /**
   * The SERVICE enforces the deadline: the client sends {@code grpc-timeout: 200m} but sets no
   * deadline of its own, so no client-side timer can end the call. The HSM hangs in C_Sign (the
   * fault shim's gate); the call must still end, ended by the service.
   */
  @Test
  void sign_deadlinePassesWhileTheHsmHangs_serviceAnswersDeadlineExceeded() throws Exception {
    FaultShim shim = FaultShim.create();
    try (TestKeyholdService svc =
        TestKeyholdService.builder().token(shim.openToken()).metrics(true).start()) {
      ManagedChannel ch = svc.channel(ServiceClients.TEST);
      try {
        shim.hang("C_Sign");
        ListenableFuture<SignResponse> call =
            KeyServiceGrpc.newFutureStub(ch)
                .withInterceptors(new GrpcTimeoutHeader("200m"))
                .sign(
                    sign(
                        "ec-p256",
                        SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint(),
                        new byte[32]));
        shim.awaitHung(1, Duration.ofSeconds(20));

        // The service's deadline fired with the HSM thread still in C_Sign: grpc-java's server
        // resets the stream (RST_STREAM CANCEL) at its deadline, so the service's own
        // DEADLINE_EXCEEDED / DEADLINE answer is counted and audited but never reaches the
        // client. The client set no deadline, so only the service can have ended the call.
        StatusRuntimeException e = failure(() -> call.get(30, TimeUnit.SECONDS));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(e.getStatus().getDescription())
            .isEqualTo("RST_STREAM closed stream. HTTP/2 error code: CANCEL");
        HealthProbe.await(
            "the service counted the call as deadline_exceeded",
            Duration.ofSeconds(20),
            () -> svc.metrics().count("sign", "deadline_exceeded") == 1);
        assertThat(shim.counter("hung")).as("the HSM thread is still in C_Sign").isEqualTo(1);
      } finally {
        shim.release();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** Puts a raw {@code grpc-timeout} header on calls that carry no deadline of their own. */
  private static final class GrpcTimeoutHeader implements ClientInterceptor {
    private static final Metadata.Key<String> TIMEOUT =
        Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
    private final String value;

    GrpcTimeoutHeader(String value) {
      this.value = value;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      assertThat(options.getDeadline()).as("the client sets no deadline of its own").isNull();
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          headers.put(TIMEOUT, value);
          super.start(listener, headers);
        }
      };
    }
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
