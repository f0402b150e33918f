package dev.keyhold.service.grpc;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.KeyDescription;

/**
 * Cheap checks of a request against its key, on the transport thread, so that a malformed request
 * never waits for an HSM session. Each failure is INVALID_ARGUMENT with a reason that names it.
 */
final class RequestValidator {
  private RequestValidator() {}

  /** The request's scheme, checked to suit the key and the digest's length. */
  static SignatureScheme sign(SignRequest req, KeyDescription d) throws KeyholdStatusException {
    if (req.getScheme() == 0) {
      throw Errors.invalid(
          ErrorReason.MISSING_FIELD, "scheme is required (a TLS SignatureScheme code point)");
    }
    SignatureScheme scheme =
        SignatureScheme.fromCodePoint(req.getScheme())
            .orElseThrow(
                () ->
                    Errors.invalid(
                        ErrorReason.UNKNOWN_SCHEME,
                        "scheme 0x"
                            + hex4(req.getScheme())
                            + " is not supported (legacy SHA-1/MD5 schemes are refused)"));
    if (!scheme.fits(d.type(), d.bits(), d.curve())) {
      throw Errors.invalid(
          ErrorReason.SCHEME_KEY_MISMATCH,
          "scheme " + scheme.ianaName() + " does not suit key '" + d.name() + "' (" + d + ")");
    }
    if (req.getDigest().isEmpty()) {
      throw Errors.invalid(ErrorReason.MISSING_FIELD, "digest is required");
    }
    if (req.getDigest().size() != scheme.hash().length()) {
      throw Errors.invalid(
          ErrorReason.DIGEST_LENGTH,
          "digest is "
              + req.getDigest().size()
              + " bytes; "
              + scheme.ianaName()
              + " needs a "
              + scheme.hash().length()
              + "-byte "
              + scheme.hash().jcaName()
              + " digest");
    }
    return scheme;
  }

  /** Checks an RSA key exchange request: an RSA key, a modulus-length ciphertext, a version. */
  static void decryptPremaster(DecryptPremasterRequest req, KeyDescription d)
      throws KeyholdStatusException {
    if (d.type() != KeyType.KEY_TYPE_RSA) {
      throw Errors.invalid(
          ErrorReason.SCHEME_KEY_MISMATCH,
          "key '" + d.name() + "' is not an RSA key; RSA key exchange needs one");
    }
    if (req.getCiphertext().isEmpty()) {
      throw Errors.invalid(ErrorReason.MISSING_FIELD, "ciphertext is required");
    }
    if (req.getCiphertext().size() != d.modulusBytes()) {
      throw Errors.invalid(
          ErrorReason.CIPHERTEXT_LENGTH,
          "ciphertext is "
              + req.getCiphertext().size()
              + " bytes; key '"
              + d.name()
              + "' needs exactly "
              + d.modulusBytes());
    }
    int version = req.getClientVersion();
    if (version < 0x0300 || version > 0x0303) {
      throw Errors.invalid(
          ErrorReason.CLIENT_VERSION,
          "client_version 0x" + hex4(version) + " is not 0x0300..0x0303 (SSL 3.0 .. TLS 1.2)");
    }
  }

  /** The scheme as the audit log names it: its IANA name, or 0xHHHH when unknown. */
  static String schemeName(int code) {
    return SignatureScheme.fromCodePoint(code)
        .map(SignatureScheme::ianaName)
        .orElseGet(() -> "0x" + hex4(code));
  }

  private static String hex4(int v) {
    return String.format("%04x", v);
  }
}
