package dev.keyhold.service.pkcs11;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.VendorProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.security.pkcs11.wrapper.CK_MECHANISM_INFO;
import sun.security.pkcs11.wrapper.Functions;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * What the token offers and what that means for Keyhold: the mechanisms of the slot
 * (C_GetMechanismList, C_GetMechanismInfo) and, per feature, whether it is enabled and by which
 * mechanism. Logged once at start-up as one INFO block, with a WARN line per problem (a {@code
 * decryptMode} the token cannot serve, a module variable its profile needs and is unset).
 *
 * @param profile the vendor profile in use
 * @param mechanisms every mechanism of the slot by name, with its sign/decrypt flags
 * @param features one line per feature: enabled or disabled, and why
 * @param warnings what the operator should fix
 */
public record TokenReport(
    String profile,
    Map<String, Mechanism> mechanisms,
    List<String> features,
    List<String> warnings) {
  private static final Logger log = LoggerFactory.getLogger(TokenReport.class);

  /** One mechanism and the functions the token allows it for. */
  public record Mechanism(String name, boolean sign, boolean decrypt, boolean generateKeyPair) {
    String flags() {
      List<String> f = new ArrayList<>();
      if (sign) {
        f.add("sign");
      }
      if (decrypt) {
        f.add("decrypt");
      }
      if (generateKeyPair) {
        f.add("generate");
      }
      return name + (f.isEmpty() ? "" : f.toString());
    }
  }

  /** Asks the module for the slot's mechanisms and derives the features. */
  public static TokenReport of(HsmConfig hsm, long slot, Map<String, String> environment) {
    Map<String, Mechanism> mechs = new TreeMap<>();
    try {
      PKCS11 p11 = Pkcs11Token.module(hsm);
      for (long m : p11.C_GetMechanismList(slot)) {
        CK_MECHANISM_INFO info = p11.C_GetMechanismInfo(slot, m);
        String name = Functions.getMechanismName(m);
        mechs.put(
            name,
            new Mechanism(
                name,
                (info.flags & PKCS11Constants.CKF_SIGN) != 0,
                (info.flags & PKCS11Constants.CKF_DECRYPT) != 0,
                (info.flags & PKCS11Constants.CKF_GENERATE_KEY_PAIR) != 0));
      }
    } catch (PKCS11Exception | java.io.IOException e) {
      throw HsmFailures.classify(e);
    }
    return derive(hsm, mechs, environment);
  }

  /** The features and warnings for a set of mechanisms (pure: unit-testable without a token). */
  static TokenReport derive(
      HsmConfig hsm, Map<String, Mechanism> mechs, Map<String, String> environment) {
    List<String> features = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    boolean rawSign = can(mechs, "CKM_RSA_X_509", true);
    boolean rawDecrypt = can(mechs, "CKM_RSA_X_509", false);
    boolean pkcs1Sign = can(mechs, "CKM_RSA_PKCS", true);
    boolean pkcs1Decrypt = can(mechs, "CKM_RSA_PKCS", false);
    boolean pssNative = can(mechs, "CKM_RSA_PKCS_PSS", true);
    boolean ecdsa = can(mechs, "CKM_ECDSA", true);

    features.add(
        pkcs1Sign
            ? "RSA PKCS#1 v1.5 signatures: enabled (CKM_RSA_PKCS)"
            : "RSA PKCS#1 v1.5 signatures: DISABLED (no CKM_RSA_PKCS sign)");
    if (rawSign) {
      features.add("RSA-PSS signatures: enabled (EMSA-PSS in the service, CKM_RSA_X_509 sign)");
    } else {
      features.add(
          "RSA-PSS signatures: DISABLED (needs CKM_RSA_X_509 sign"
              + (pssNative
                  ? "; the token's CKM_RSA_PKCS_PSS is not used: Keyhold receives digests"
                  : "")
              + ")");
    }
    features.add(
        ecdsa
            ? "ECDSA signatures: enabled (CKM_ECDSA over the digest)"
            : "ECDSA signatures: DISABLED (no CKM_ECDSA sign)");
    if (hsm.decryptMode() == HsmConfig.DecryptMode.RAW) {
      if (rawDecrypt) {
        features.add(
            "DecryptPremaster: enabled, decryptMode raw (CKM_RSA_X_509, depadding in constant time"
                + " in the service)");
      } else {
        features.add("DecryptPremaster: DISABLED, decryptMode raw needs CKM_RSA_X_509 decrypt");
        warnings.add(
            "the token does not offer CKM_RSA_X_509 decrypt, so DecryptPremaster will fail in"
                + " decryptMode raw"
                + (pkcs1Decrypt ? "; set hsm.decryptMode: pkcs1 (CKM_RSA_PKCS is offered)" : ""));
      }
    } else {
      if (pkcs1Decrypt) {
        features.add(
            "DecryptPremaster: enabled, decryptMode pkcs1 (CKM_RSA_PKCS, bad padding codes "
                + hsm.badPaddingCodes()
                + ")");
      } else {
        features.add("DecryptPremaster: DISABLED, decryptMode pkcs1 needs CKM_RSA_PKCS decrypt");
        warnings.add(
            "the token does not offer CKM_RSA_PKCS decrypt, so DecryptPremaster will fail in"
                + " decryptMode pkcs1"
                + (rawDecrypt ? "; set hsm.decryptMode: raw (CKM_RSA_X_509 is offered)" : ""));
      }
    }
    features.add(
        "signature verification before return: "
            + (hsm.verifySignatures() == HsmConfig.VerifyMode.ALL ? "all" : "RSA only")
            + " (with the public key, in software; needs no token mechanism)");
    features.add(
        "key generation (keys generate): RSA "
            + (can(mechs, "CKM_RSA_PKCS_KEY_PAIR_GEN", null) ? "yes" : "no")
            + ", EC "
            + (can(mechs, "CKM_EC_KEY_PAIR_GEN", null) ? "yes" : "no"));
    VendorProfile vendor = hsm.vendorProfile();
    warnings.addAll(vendor.warnings(hsm, environment));
    return new TokenReport(vendor.name(), Map.copyOf(mechs), List.copyOf(features), warnings);
  }

  /** sign: true, decrypt: false, key-pair generation: null. */
  private static boolean can(Map<String, Mechanism> mechs, String name, Boolean sign) {
    Mechanism m = mechs.get(name);
    if (m == null) {
      return false;
    }
    if (sign == null) {
      return m.generateKeyPair();
    }
    return sign ? m.sign() : m.decrypt();
  }

  /** The INFO block. */
  public String render(HsmConfig hsm, long slot) {
    StringBuilder sb = new StringBuilder();
    sb.append("token report: ")
        .append(hsm.describeToken())
        .append(" (slot ")
        .append(slot)
        .append(") through ")
        .append(hsm.library())
        .append(", profile ")
        .append(profile)
        .append(", sessions ")
        .append(hsm.sessions())
        .append('\n');
    sb.append("  mechanisms (")
        .append(mechanisms.size())
        .append("): ")
        .append(
            String.join(
                " ", new TreeMap<>(mechanisms).values().stream().map(Mechanism::flags).toList()))
        .append('\n');
    for (String f : features) {
      sb.append("  ").append(f).append('\n');
    }
    return sb.toString().stripTrailing();
  }

  /** Logs the block at INFO and each warning at WARN. */
  public void log(HsmConfig hsm, long slot) {
    log.info("{}", render(hsm, slot));
    for (String w : warnings) {
      log.warn("{}", w);
    }
  }
}
