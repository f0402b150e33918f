package dev.keyhold.service.keys;

import java.security.ProviderException;

/**
 * An HSM operation failed. Thrown by the PKCS#11 layer for every SunPKCS11 failure, already
 * classified, so callers decide on {@link #reason()} without knowing PKCS#11; {@link #ckrName()}
 * keeps the token's own return-value name for logs. The message is the innermost cause's message,
 * which never carries key material or a PIN.
 */
public final class HsmException extends ProviderException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, in terms a caller can act on. */
  public enum Reason {
    /** The device failed (CKR_DEVICE_ERROR, CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED). */
    DEVICE_ERROR,
    /** The session is invalid or was closed (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED). */
    SESSION_INVALID,
    /** Another operation is still active on the session (CKR_OPERATION_ACTIVE). */
    OPERATION_ACTIVE,
    /** The session is no longer logged in (CKR_USER_NOT_LOGGED_IN). */
    NOT_LOGGED_IN,
    /** The token is gone (CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_RECOGNIZED). */
    TOKEN_ABSENT,
    /** The key's handle is no longer valid (CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID). */
    OBJECT_HANDLE_INVALID,
    /** The token does not offer the mechanism for this key (CKR_MECHANISM_*, CKR_KEY_TYPE_*). */
    MECHANISM_INVALID,
    /** The ciphertext is not valid for the key (CKR_ENCRYPTED_DATA_INVALID, _LEN_RANGE). */
    ENCRYPTED_DATA_INVALID,
    /**
     * The token refuses for now and may accept later: CKR_FUNCTION_REJECTED, CKR_DEVICE_MEMORY,
     * CKR_HOST_MEMORY, and the vendor-defined range (CKR_VENDOR_DEFINED and above), where HSM
     * vendors put their busy and rate-limit codes.
     */
    THROTTLED,
    /** The PIN is wrong (CKR_PIN_INCORRECT). */
    PIN_INCORRECT,
    /** The PIN is locked (CKR_PIN_LOCKED). */
    PIN_LOCKED,
    /** Anything else; {@link #ckrName()} says what. */
    OTHER
  }

  private final Reason reason;
  private final String ckrName;

  public HsmException(Reason reason, String ckrName, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.ckrName = ckrName;
  }

  /** The innermost cause's message, or its class name when it has none. */
  public static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  public Reason reason() {
    return reason;
  }

  /** The PKCS#11 return value's name, e.g. {@code CKR_DEVICE_ERROR}, or "" when none was seen. */
  public String ckrName() {
    return ckrName;
  }
}
