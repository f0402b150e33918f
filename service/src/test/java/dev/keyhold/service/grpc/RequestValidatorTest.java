package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.testing.SoftwareKey;
import io.grpc.Status;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each malformed request is refused with INVALID_ARGUMENT and the reason that names it. */
class RequestValidatorTest {
  private static KeyDescription rsa;
  private static KeyDescription ec;

  @BeforeAll
  static void keys() throws Exception {
    rsa = SoftwareKey.rsa("rsa2048", 2048).description();
    ec = SoftwareKey.ec("ec-p256", "secp256r1").description();
  }

  private static SignRequest sign(int scheme, int digestBytes) {
    return SignRequest.newBuilder()
        .setScheme(scheme)
        .setDigest(ByteString.copyFrom(new byte[digestBytes]))
        .build();
  }

  private static DecryptPremasterRequest decrypt(int ciphertextBytes, int version) {
    return DecryptPremasterRequest.newBuilder()
        .setCiphertext(ByteString.copyFrom(new byte[ciphertextBytes]))
        .setClientVersion(version)
        .build();
  }

  private static void assertRefused(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
      ErrorReason reason,
      String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KeyholdStatusException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.reason()).isEqualTo(reason);
              assertThat(e.getMessage()).isEqualTo(message);
            });
  }

  @Test
  void sign_validRequest_returnsTheScheme() throws Exception {
    assertThat(RequestValidator.sign(sign(0x0804, 32), rsa))
        .isEqualTo(SignatureScheme.RSA_PSS_RSAE_SHA256);
    assertThat(RequestValidator.sign(sign(0x0403, 32), ec))
        .isEqualTo(SignatureScheme.ECDSA_SECP256R1_SHA256);
  }

  @Test
  void sign_noScheme_isMissingField() {
    assertRefused(
        () -> RequestValidator.sign(sign(0, 32), rsa),
        ErrorReason.MISSING_FIELD,
        "scheme is required (a TLS SignatureScheme code point)");
  }

  @Test
  void sign_unknownOrLegacyScheme_isUnknownScheme() {
    assertRefused(
        () -> RequestValidator.sign(sign(0x0201, 20), rsa),
        ErrorReason.UNKNOWN_SCHEME,
        "scheme 0x0201 is not supported (legacy SHA-1/MD5 schemes are refused)");
  }

  @Test
  void sign_schemeOfAnotherKeyType_isSchemeKeyMismatch() {
    assertRefused(
        () -> RequestValidator.sign(sign(0x0403, 32), rsa),
        ErrorReason.SCHEME_KEY_MISMATCH,
        "scheme ecdsa_secp256r1_sha256 does not suit key 'rsa2048' (rsa2048 (RSA-2048))");
  }

  @Test
  void sign_noDigest_isMissingField() {
    assertRefused(
        () -> RequestValidator.sign(sign(0x0401, 0), rsa),
        ErrorReason.MISSING_FIELD,
        "digest is required");
  }

  @ParameterizedTest
  @ValueSource(ints = {31, 33, 48})
  void sign_digestOfTheWrongLength_isDigestLength(int bytes) {
    assertRefused(
        () -> RequestValidator.sign(sign(0x0401, bytes), rsa),
        ErrorReason.DIGEST_LENGTH,
        "digest is " + bytes + " bytes; rsa_pkcs1_sha256 needs a 32-byte SHA-256 digest");
  }

  @ParameterizedTest
  @ValueSource(ints = {0x0300, 0x0301, 0x0302, 0x0303})
  void decryptPremaster_everyVersionFromSsl3ToTls12_isAccepted(int version) throws Exception {
    RequestValidator.decryptPremaster(decrypt(256, version), rsa);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 0x02ff, 0x0304, 0x7f03})
  void decryptPremaster_otherVersion_isClientVersion(int version) {
    assertRefused(
        () -> RequestValidator.decryptPremaster(decrypt(256, version), rsa),
        ErrorReason.CLIENT_VERSION,
        "client_version 0x"
            + String.format("%04x", version)
            + " is not 0x0300..0x0303 (SSL 3.0 .. TLS 1.2)");
  }

  @Test
  void decryptPremaster_ecKey_isSchemeKeyMismatch() {
    assertRefused(
        () -> RequestValidator.decryptPremaster(decrypt(32, 0x0303), ec),
        ErrorReason.SCHEME_KEY_MISMATCH,
        "key 'ec-p256' is not an RSA key; RSA key exchange needs one");
  }

  @Test
  void decryptPremaster_noCiphertext_isMissingField() {
    assertRefused(
        () -> RequestValidator.decryptPremaster(decrypt(0, 0x0303), rsa),
        ErrorReason.MISSING_FIELD,
        "ciphertext is required");
  }

  @ParameterizedTest
  @ValueSource(ints = {255, 257})
  void decryptPremaster_ciphertextNotTheModulusLength_isCiphertextLength(int bytes) {
    assertRefused(
        () -> RequestValidator.decryptPremaster(decrypt(bytes, 0x0303), rsa),
        ErrorReason.CIPHERTEXT_LENGTH,
        "ciphertext is " + bytes + " bytes; key 'rsa2048' needs exactly 256");
  }

  @Test
  void schemeName_isTheIanaNameOrHex() {
    assertThat(RequestValidator.schemeName(0x0804)).isEqualTo("rsa_pss_rsae_sha256");
    assertThat(RequestValidator.schemeName(0x0201)).isEqualTo("0x0201");
  }
}
