package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS;
import sun.security.pkcs11.wrapper.CK_TOKEN_INFO;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * Resolves a token label to a slot id. SunPKCS11 accepts only slot ids or list indexes, and
 * SoftHSM's slot ids are random, so operators name tokens by label and we look the slot up through
 * the JDK's own PKCS#11 wrapper (the same loaded module SunPKCS11 uses).
 *
 * <p>Needs {@code --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED}; the
 * service jar's manifest and the test set-up provide it.
 */
public final class TokenLocator {
  private static final Logger log = LoggerFactory.getLogger(TokenLocator.class);

  /**
   * Lookups at start-up ({@link Pkcs11Token#openAtStart}) try this often; every other one
   * (recovery, whose supervisor has its own backoff, and the CLI) once.
   */
  public static final int START_ATTEMPTS = 5;

  // CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED, CKR_DEVICE_ERROR (JDK 17 has no constants for them)
  private static final Set<Long> TRANSIENT = Set.of(0x05L, 0x06L, 0x30L);

  private TokenLocator() {}

  /** A token present in some slot. */
  public record Slot(long id, String label, boolean initialized, boolean userPinInitialized) {}

  /** Lists the slots with a token present, asking the module once. */
  public static List<Slot> slots(HsmConfig hsm) {
    return slots(hsm, 1);
  }

  /**
   * Lists the slots with a token present, asking up to {@code attempts} times while the module
   * answers a transient failure.
   */
  public static List<Slot> slots(HsmConfig hsm, int attempts) {
    hsm.checkLibraryExists();
    try {
      // The JDK initializes a library once per JVM, with the arguments of its first user,
      // and SunPKCS11 reuses that instance. Without CKF_OS_LOCKING_OK the JDK serializes every
      // PKCS#11 call of the process on one lock (and SoftHSM disables its own mutexes), so the
      // HSM's sessions could never work in parallel. Ask for what SunPKCS11 itself asks for.
      CK_C_INITIALIZE_ARGS init = new CK_C_INITIALIZE_ARGS();
      init.flags = PKCS11Constants.CKF_OS_LOCKING_OK;
      return listSlots(hsm, init, attempts);
    } catch (java.io.IOException e) {
      throw new ConfigException(
          "cannot load PKCS#11 library "
              + hsm.library()
              + ": "
              + e.getMessage()
              + " ("
              + hsm.vendorProfile().hints()
              + ")");
    } catch (IllegalAccessError e) {
      throw new ConfigException(
          "finding a token by label needs the JVM option --add-exports"
              + " jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED; or set hsm.slot");
    }
  }

  /**
   * Lists the slots, trying again (after 100, 200, 400, 800 ms... while attempts remain) when the
   * module answers a transient failure. Replicas starting together on one SoftHSM token hit this:
   * each login rewrites the token's file, and a module reading it meanwhile answers
   * CKR_GENERAL_ERROR (seen in ReplicaKilledIT). A module that keeps failing gets the same precise
   * error as after one attempt.
   */
  private static List<Slot> listSlots(HsmConfig hsm, CK_C_INITIALIZE_ARGS init, int attempts)
      throws java.io.IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        // The JDK keeps the instance once C_Initialize succeeded; a failed one is tried again.
        PKCS11 p11 =
            PKCS11.getInstance(
                hsm.library().toAbsolutePath().toString(), "C_GetFunctionList", init, false);
        List<Slot> out = new ArrayList<>();
        for (long slot : p11.C_GetSlotList(true)) {
          CK_TOKEN_INFO info = p11.C_GetTokenInfo(slot);
          out.add(
              new Slot(
                  slot,
                  new String(info.label).trim(),
                  (info.flags & 0x400L) != 0,
                  (info.flags & 0x8L) != 0));
        }
        return out;
      } catch (PKCS11Exception e) {
        if (attempt >= attempts || !TRANSIENT.contains(e.getErrorCode())) {
          throw new ConfigException(
              "PKCS#11 library "
                  + hsm.library()
                  + " failed to list slots: "
                  + e.getMessage()
                  + (attempt > 1 ? " (after " + attempt + " attempts)" : "")
                  + " ("
                  + hsm.vendorProfile().hints()
                  + ")");
        }
        if (attempt == 1) {
          log.warn(
              "PKCS#11 library {} answered {} listing slots; trying again for up to 1.5 s",
              hsm.library(),
              e.getMessage());
        }
        try {
          Thread.sleep(100L << (attempt - 1));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new ConfigException("interrupted while listing the slots of " + hsm.library());
        }
      }
    }
  }

  /**
   * The configured slot id: {@code hsm.slot}, or the slot whose token has {@code hsm.tokenLabel}.
   */
  public static long resolve(HsmConfig hsm) {
    return resolve(hsm, 1);
  }

  /** {@link #resolve(HsmConfig)}, listing the slots up to {@code attempts} times (see above). */
  public static long resolve(HsmConfig hsm, int attempts) {
    if (hsm.tokenLabel() == null || hsm.tokenLabel().isBlank()) {
      return hsm.slot();
    }
    List<Slot> slots = slots(hsm, attempts);
    List<Slot> matches = slots.stream().filter(s -> s.label().equals(hsm.tokenLabel())).toList();
    if (matches.isEmpty()) {
      List<String> labels = slots.stream().map(Slot::label).filter(l -> !l.isEmpty()).toList();
      throw new ConfigException(
          "no token labelled '"
              + hsm.tokenLabel()
              + "' in "
              + hsm.library()
              + " (tokens present: "
              + labels
              + "); fix hsm.tokenLabel, or set the token up ("
              + hsm.vendorProfile().hints()
              + ")");
    }
    if (matches.size() > 1) {
      throw new ConfigException(
          "several tokens are labelled '"
              + hsm.tokenLabel()
              + "'; set hsm.slot to one of "
              + matches.stream().map(Slot::id).toList());
    }
    return matches.get(0).id();
  }
}
