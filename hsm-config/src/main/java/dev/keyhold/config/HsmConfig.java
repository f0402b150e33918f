package dev.keyhold.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How to reach one PKCS#11 token.
 *
 * @param library path of the vendor's PKCS#11 module, e.g. {@code /usr/lib/softhsm/libsofthsm2.so};
 *     unset: the profile's first installed candidate
 * @param tokenLabel the token to use, by label (preferred); resolved to a slot id at start-up
 * @param slot the token to use, by slot id, when no label is given. Never a slot list index:
 *     SoftHSM's index 0 is usually the empty slot.
 * @param pin where the user PIN comes from
 * @param sessions how many PKCS#11 operations may run at once; sizes the HSM executor
 * @param queue how many more may wait for a session before callers get RESOURCE_EXHAUSTED
 * @param decryptMode {@link DecryptMode#RAW} (CKM_RSA_X_509 and depadding in the service) or {@link
 *     DecryptMode#PKCS1} for HSMs that forbid raw RSA
 * @param profile the vendor profile ({@link VendorProfile#KNOWN}, default "softhsm2"), whose
 *     defaults fill the fields left unset: library, sessions, decryptMode, verifySignatures,
 *     badPaddingCodes
 * @param verifySignatures which signatures are verified with the public key before they are
 *     returned: {@link VerifyMode#ALL} (default) or {@link VerifyMode#RSA} (RSA only: the RSA-CRT
 *     fault check, without doubling the HSM work of every ECDSA signature)
 * @param probeInterval how often a background probe checks the token (token info and one real
 *     signature); health flips within one interval of the token failing or recovering
 * @param maxStuckThreads how many HSM executor threads may hang in a PKCS#11 call past their
 *     caller's deadline before the service reports NOT_SERVING and refuses new calls at once
 * @param badPaddingCodes in {@code decryptMode: pkcs1}, the PKCS#11 return values of C_Decrypt that
 *     mean "bad padding" (the caller gets the substitute premaster); every other failure is an HSM
 *     failure. A per-module fact: SoftHSM answers bad padding with CKR_GENERAL_ERROR.
 * @param probeTimeout how long one probe may take before the token is reported NOT_SERVING; a hung
 *     probe is not repeated until it returns (one probe thread at most is ever stuck). Default: the
 *     probe interval.
 * @param tokens an HA group: several tokens holding the same keys, each with its own probe and
 *     recovery ({@link #members()}); empty (default): the one token named by {@code tokenLabel} or
 *     {@code slot}
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
    VerifyMode verifySignatures,
    Duration probeInterval,
    int maxStuckThreads,
    List<String> badPaddingCodes,
    Duration probeTimeout,
    List<TokenRef> tokens) {

  /** The bad-padding codes of every module (PKCS#11 v2.40 §5.8). */
  public static final List<String> STANDARD_BAD_PADDING_CODES =
      List.of("CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE");

  /**
   * Codes that leave a session unusable or say the token is gone: always HSM failures, never bad
   * padding, whatever {@code badPaddingCodes} says.
   */
  public static final Set<String> SESSION_FAILURE_CODES =
      Set.of(
          "CKR_OPERATION_ACTIVE",
          "CKR_SESSION_HANDLE_INVALID",
          "CKR_SESSION_CLOSED",
          "CKR_DEVICE_ERROR",
          "CKR_DEVICE_REMOVED",
          "CKR_DEVICE_MEMORY",
          "CKR_TOKEN_NOT_PRESENT",
          "CKR_TOKEN_NOT_RECOGNIZED",
          "CKR_USER_NOT_LOGGED_IN",
          "CKR_OBJECT_HANDLE_INVALID",
          "CKR_KEY_HANDLE_INVALID");

  /** As the canonical constructor, with the default probe timeout (the probe interval). */
  public HsmConfig(
      Path library,
      String tokenLabel,
      Long slot,
      PinSource pin,
      int sessions,
      int queue,
      DecryptMode decryptMode,
      String profile,
      VerifyMode verifySignatures,
      Duration probeInterval,
      int maxStuckThreads,
      List<String> badPaddingCodes) {
    this(
        library,
        tokenLabel,
        slot,
        pin,
        sessions,
        queue,
        decryptMode,
        profile,
        verifySignatures,
        probeInterval,
        maxStuckThreads,
        badPaddingCodes,
        null,
        null);
  }

  /** As the canonical constructor, with the default probe, stuck-thread and padding settings. */
  public HsmConfig(
      Path library,
      String tokenLabel,
      Long slot,
      PinSource pin,
      int sessions,
      int queue,
      DecryptMode decryptMode,
      String profile,
      VerifyMode verifySignatures) {
    this(
        library,
        tokenLabel,
        slot,
        pin,
        sessions,
        queue,
        decryptMode,
        profile,
        verifySignatures,
        null,
        0,
        null,
        null,
        null);
  }

  /** This configuration with another probe interval and stuck-thread limit (tests, tools). */
  public HsmConfig withHealth(Duration probeInterval, int maxStuckThreads) {
    return new HsmConfig(
        library,
        tokenLabel,
        slot,
        pin,
        sessions,
        queue,
        decryptMode,
        profile,
        verifySignatures,
        probeInterval,
        maxStuckThreads,
        badPaddingCodes,
        probeTimeout,
        tokens);
  }

  /** This configuration reaching the token through another module (e.g. a test shim). */
  public HsmConfig withLibrary(Path otherLibrary) {
    return new HsmConfig(
        otherLibrary,
        tokenLabel,
        slot,
        pin,
        sessions,
        queue,
        decryptMode,
        profile,
        verifySignatures,
        probeInterval,
        maxStuckThreads,
        badPaddingCodes,
        probeTimeout,
        tokens);
  }

  /**
   * The tokens this configuration serves: itself, or one configuration per {@code hsm.tokens}
   * entry, each with this section's settings and the entry's token, module and PIN.
   */
  public List<HsmConfig> members() {
    if (tokens.isEmpty()) {
      return List.of(this);
    }
    List<HsmConfig> out = new ArrayList<>();
    for (TokenRef t : tokens) {
      out.add(
          forToken(
              t.library() != null ? t.library() : library,
              t.tokenLabel(),
              t.slot(),
              t.pin() != null ? t.pin() : pin));
    }
    return List.copyOf(out);
  }

  /** This section's settings for one token (no group). */
  public HsmConfig forToken(Path lib, String label, Long slotId, PinSource userPin) {
    return new HsmConfig(
        lib,
        label,
        slotId,
        userPin,
        sessions,
        queue,
        decryptMode,
        profile,
        verifySignatures,
        probeInterval,
        maxStuckThreads,
        badPaddingCodes,
        probeTimeout,
        List.of());
  }

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
    if (profile == null || profile.isBlank()) {
      profile = "softhsm2";
    }
    // Unset fields (null, or 0 for counts) take the vendor profile's default, then the general one.
    VendorProfile vendor = VendorProfile.named(profile);
    VendorProfile.Defaults vd = vendor.defaults();
    if (library == null) {
      library = vendor.defaultLibrary();
    }
    if (library == null) {
      throw new ConfigException(
          "hsm.library is required (path to the PKCS#11 module; profile "
              + profile
              + " has no default)");
    }
    if (sessions <= 0 && vd.sessions() != null && vd.sessions() > 0) {
      sessions = vd.sessions();
    }
    if (decryptMode == null) {
      decryptMode = vd.decryptMode();
    }
    if (verifySignatures == null) {
      verifySignatures = vd.verifySignatures();
    }
    tokens = tokens == null ? List.of() : List.copyOf(tokens);
    if ((tokenLabel == null || tokenLabel.isBlank()) && slot == null && tokens.isEmpty()) {
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
    if (verifySignatures == null) {
      verifySignatures = VerifyMode.ALL;
    }
    if (probeInterval == null) {
      probeInterval = Duration.ofSeconds(5);
    }
    if (probeInterval.isNegative() || probeInterval.isZero()) {
      throw new ConfigException("hsm.probeInterval must be positive");
    }
    if (probeTimeout == null) {
      probeTimeout = probeInterval;
    }
    if (probeTimeout.isNegative() || probeTimeout.isZero()) {
      throw new ConfigException("hsm.probeTimeout must be positive");
    }
    if (maxStuckThreads < 0) {
      throw new ConfigException("hsm.maxStuckThreads must be >= 0 (0: half the sessions)");
    }
    if (maxStuckThreads == 0) {
      maxStuckThreads = Math.max(1, sessions / 2);
    }
    if (badPaddingCodes == null) {
      List<String> codes = new ArrayList<>(STANDARD_BAD_PADDING_CODES);
      if (vd.badPaddingCodes() != null) {
        codes.addAll(vd.badPaddingCodes()); // e.g. SoftHSM answers bad padding with GENERAL_ERROR
      }
      badPaddingCodes = codes;
    }
    for (String code : badPaddingCodes) {
      if (SESSION_FAILURE_CODES.contains(code)) {
        throw new ConfigException(
            "hsm.badPaddingCodes: " + code + " is an HSM failure, never bad padding");
      }
    }
    badPaddingCodes = List.copyOf(badPaddingCodes);
  }

  /** Checks what can be checked before the library loads, with a message that says what to fix. */
  public void checkLibraryExists() {
    if (!Files.isRegularFile(library)) {
      throw new ConfigException(
          "PKCS#11 library "
              + library
              + " does not exist (profile "
              + profile
              + ": install "
              + vendorProfile().install()
              + "; or fix hsm.library)");
    }
  }

  /** The vendor profile {@code hsm.profile} names. */
  public VendorProfile vendorProfile() {
    return VendorProfile.named(profile);
  }

  /** Describes the token for messages: its label or slot, never the PIN. */
  public String describeToken() {
    return tokenLabel != null && !tokenLabel.isBlank()
        ? "token '" + tokenLabel + "'"
        : "slot " + slot;
  }
}
