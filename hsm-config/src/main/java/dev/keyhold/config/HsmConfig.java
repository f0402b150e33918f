package dev.keyhold.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How to reach one PKCS#11 token.
 *
 * @param library path of the vendor's PKCS#11 module, e.g. {@code /usr/lib/softhsm/libsofthsm2.so}
 * @param tokenLabel the token to use, by label (preferred); resolved to a slot id at start-up
 * @param slot the token to use, by slot id, when no label is given. Never a slot list index:
 *     SoftHSM's index 0 is usually the empty slot.
 * @param pin where the user PIN comes from
 * @param sessions how many PKCS#11 operations may run at once; sizes the HSM executor
 * @param queue how many more may wait for a session before callers get RESOURCE_EXHAUSTED
 * @param decryptMode {@link DecryptMode#RAW} (CKM_RSA_X_509 and depadding in the service) or {@link
 *     DecryptMode#PKCS1} for HSMs that forbid raw RSA
 * @param profile the SunPKCS11 vendor profile: "softhsm2" or "generic"
 * @param verifySignatures which signatures are verified with the public key before they are
 *     returned: {@link VerifyMode#ALL} (default) or {@link VerifyMode#RSA} (RSA only: the RSA-CRT
 *     fault check, without doubling the HSM work of every ECDSA signature)
 */
public record HsmConfig(
    Path library,
    String tokenLabel,
    Long slot,
    PinSource pin,
    int sessions,
    int queue,
    DecryptMode decryptMode,
    String profile,
    VerifyMode verifySignatures) {

  /** Which signatures are checked before they leave the service. */
  public enum VerifyMode {
    ALL,
    RSA
  }

  /** As the canonical constructor, verifying every signature. */
  public HsmConfig(
      Path library,
      String tokenLabel,
      Long slot,
      PinSource pin,
      int sessions,
      int queue,
      DecryptMode decryptMode,
      String profile) {
    this(library, tokenLabel, slot, pin, sessions, queue, decryptMode, profile, VerifyMode.ALL);
  }

  /** How DecryptPremaster uses the HSM. */
  public enum DecryptMode {
    RAW,
    PKCS1
  }

  public HsmConfig {
    if (library == null) {
      throw new ConfigException("hsm.library is required (path to the PKCS#11 module)");
    }
    if ((tokenLabel == null || tokenLabel.isBlank()) && slot == null) {
      throw new ConfigException("hsm.tokenLabel or hsm.slot is required");
    }
    if (pin == null) {
      throw new ConfigException("hsm.pin is required: {file: PATH} or {env: VARIABLE}");
    }
    if (sessions <= 0) {
      sessions = Math.max(2, Runtime.getRuntime().availableProcessors());
    }
    if (queue < 0) {
      throw new ConfigException("hsm.queue must be >= 0");
    }
    if (queue == 0) {
      queue = 256;
    }
    if (decryptMode == null) {
      decryptMode = DecryptMode.RAW;
    }
    if (profile == null || profile.isBlank()) {
      profile = "softhsm2";
    }
    if (verifySignatures == null) {
      verifySignatures = VerifyMode.ALL;
    }
  }

  /** Checks what can be checked before the library loads, with a message that says what to fix. */
  public void checkLibraryExists() {
    if (!Files.isRegularFile(library)) {
      throw new ConfigException(
          "PKCS#11 library "
              + library
              + " does not exist (install the HSM client, e.g. apt-get install softhsm2, or fix"
              + " hsm.library)");
    }
  }

  /** Describes the token for messages: its label or slot, never the PIN. */
  public String describeToken() {
    return tokenLabel != null && !tokenLabel.isBlank()
        ? "token '" + tokenLabel + "'"
        : "slot " + slot;
  }
}
