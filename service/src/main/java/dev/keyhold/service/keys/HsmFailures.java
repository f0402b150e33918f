package dev.keyhold.service.keys;

/**
 * How HSM failures are described. SunPKCS11 wraps the PKCS#11 return value (e.g. {@code
 * CKR_DEVICE_ERROR}) several exceptions deep; the innermost message is the one that says what
 * happened, and it never carries key material or a PIN.
 */
public final class HsmFailures {
  private HsmFailures() {}

  /** The innermost cause's message, or its class name when it has none. */
  public static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
