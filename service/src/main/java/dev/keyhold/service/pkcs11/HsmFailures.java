package dev.keyhold.service.pkcs11;

import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmException.Reason;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * The one place that reads PKCS#11 failures. SunPKCS11 wraps the PKCS#11 return value (e.g. {@code
 * CKR_DEVICE_ERROR}) several exceptions deep, as a {@link PKCS11Exception} whose error code is read
 * where the JVM exports its package, and otherwise from the {@code CKR_} name in the message.
 * Nothing outside this package parses an exception message.
 */
public final class HsmFailures {
  private HsmFailures() {}

  private static final Pattern CKR = Pattern.compile("CKR_[A-Z0-9_]+");

  /** CKR_VENDOR_DEFINED: vendors number their own codes from here (busy, rate limits...). */
  static final long CKR_VENDOR_DEFINED = 0x80000000L;

  private static final Map<String, Reason> BY_NAME =
      Map.ofEntries(
          Map.entry("CKR_DEVICE_ERROR", Reason.DEVICE_ERROR),
          Map.entry("CKR_GENERAL_ERROR", Reason.DEVICE_ERROR),
          Map.entry("CKR_FUNCTION_FAILED", Reason.DEVICE_ERROR),
          Map.entry("CKR_SESSION_HANDLE_INVALID", Reason.SESSION_INVALID),
          Map.entry("CKR_SESSION_CLOSED", Reason.SESSION_INVALID),
          Map.entry("CKR_OPERATION_ACTIVE", Reason.OPERATION_ACTIVE),
          Map.entry("CKR_USER_NOT_LOGGED_IN", Reason.NOT_LOGGED_IN),
          Map.entry("CKR_TOKEN_NOT_PRESENT", Reason.TOKEN_ABSENT),
          Map.entry("CKR_DEVICE_REMOVED", Reason.TOKEN_ABSENT),
          Map.entry("CKR_TOKEN_NOT_RECOGNIZED", Reason.TOKEN_ABSENT),
          Map.entry("CKR_OBJECT_HANDLE_INVALID", Reason.OBJECT_HANDLE_INVALID),
          Map.entry("CKR_KEY_HANDLE_INVALID", Reason.OBJECT_HANDLE_INVALID),
          Map.entry("CKR_MECHANISM_INVALID", Reason.MECHANISM_INVALID),
          Map.entry("CKR_MECHANISM_PARAM_INVALID", Reason.MECHANISM_INVALID),
          Map.entry("CKR_KEY_TYPE_INCONSISTENT", Reason.MECHANISM_INVALID),
          Map.entry("CKR_KEY_FUNCTION_NOT_PERMITTED", Reason.MECHANISM_INVALID),
          Map.entry("CKR_ENCRYPTED_DATA_INVALID", Reason.ENCRYPTED_DATA_INVALID),
          Map.entry("CKR_ENCRYPTED_DATA_LEN_RANGE", Reason.ENCRYPTED_DATA_INVALID),
          Map.entry("CKR_FUNCTION_REJECTED", Reason.THROTTLED),
          Map.entry("CKR_DEVICE_MEMORY", Reason.THROTTLED),
          Map.entry("CKR_HOST_MEMORY", Reason.THROTTLED),
          Map.entry("CKR_PIN_INCORRECT", Reason.PIN_INCORRECT),
          Map.entry("CKR_PIN_LOCKED", Reason.PIN_LOCKED));

  /** The failure as an {@link HsmException}; one already classified is returned as it is. */
  public static HsmException classify(Throwable t) {
    if (t instanceof HsmException h) {
      return h;
    }
    String ckr = ckrName(t).orElse("");
    return new HsmException(reason(ckr), ckr, rootMessage(t), t);
  }

  /** The reason a {@code CKR_} name stands for; vendor codes ({@code 0x8...}) are throttling. */
  static Reason reason(String ckrName) {
    Reason r = BY_NAME.get(ckrName);
    if (r != null) {
      return r;
    }
    if (ckrName.startsWith("CKR_VENDOR_DEFINED") || ckrName.matches("0x[89a-fA-F][0-9a-fA-F]{7}")) {
      return Reason.THROTTLED;
    }
    return Reason.OTHER;
  }

  /** The first PKCS#11 return value named in the cause chain. */
  static Optional<String> ckrName(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      Optional<String> code = errorCode(c);
      if (code.isPresent()) {
        return code;
      }
    }
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      Matcher m = CKR.matcher(String.valueOf(c.getMessage()));
      if (m.find()) {
        return Optional.of(m.group());
      }
    }
    return Optional.empty();
  }

  private static Optional<String> errorCode(Throwable c) {
    try {
      if (c instanceof PKCS11Exception p) {
        long code = p.getErrorCode();
        if (code >= CKR_VENDOR_DEFINED) {
          return Optional.of(String.format("0x%08x", code));
        }
        Matcher m = CKR.matcher(String.valueOf(p.getMessage()));
        return m.find() ? Optional.of(m.group()) : Optional.of(String.format("0x%08x", code));
      }
    } catch (IllegalAccessError notExported) {
      // Started without --add-exports for sun.security.pkcs11.wrapper: the message still names it.
    }
    return Optional.empty();
  }

  /** The innermost cause's message, or its class name when it has none. */
  public static String rootMessage(Throwable t) {
    return HsmException.rootMessage(t);
  }
}
