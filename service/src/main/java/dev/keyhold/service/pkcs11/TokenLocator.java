package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import java.util.ArrayList;
import java.util.List;
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
  private TokenLocator() {}

  /** A token present in some slot. */
  public record Slot(long id, String label, boolean initialized, boolean userPinInitialized) {}

  /** Lists the slots with a token present. */
  public static List<Slot> slots(HsmConfig hsm) {
    hsm.checkLibraryExists();
    try {
      // The JDK initializes a library once per JVM, with the arguments of its first user,
      // and SunPKCS11 reuses that instance. Without CKF_OS_LOCKING_OK the JDK serializes every
      // PKCS#11 call of the process on one lock (and SoftHSM disables its own mutexes), so the
      // HSM's sessions could never work in parallel. Ask for what SunPKCS11 itself asks for.
      CK_C_INITIALIZE_ARGS init = new CK_C_INITIALIZE_ARGS();
      init.flags = PKCS11Constants.CKF_OS_LOCKING_OK;
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
      throw new ConfigException(
          "PKCS#11 library "
              + hsm.library()
              + " failed to list slots: "
              + e.getMessage()
              + " ("
              + hsm.vendorProfile().hints()
              + ")");
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
   * The configured slot id: {@code hsm.slot}, or the slot whose token has {@code hsm.tokenLabel}.
   */
  public static long resolve(HsmConfig hsm) {
    if (hsm.tokenLabel() == null || hsm.tokenLabel().isBlank()) {
      return hsm.slot();
    }
    List<Slot> slots = slots(hsm);
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
