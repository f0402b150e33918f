package dev.keyhold.config;

/**
 * Renders the SunPKCS11 provider configuration for a token, per vendor profile.
 *
 * <p>The slot is always given by id ({@code slot = N}), never by {@code slotListIndex}: SoftHSM
 * lists an empty, uninitialized slot first. Key-generation templates make every generated private
 * key a token object that is {@code CKA_SENSITIVE} and not {@code CKA_EXTRACTABLE}, so keys created
 * through this provider never leave the HSM.
 */
public final class SunPkcs11Profile {
  private SunPkcs11Profile() {}

  /** The configuration text for {@code SunPKCS11.configure("--" + text)}. */
  public static String render(HsmConfig hsm, long slotId, String providerName) {
    StringBuilder sb = new StringBuilder();
    sb.append("name = ").append(providerName).append('\n');
    sb.append("library = ").append(hsm.library().toAbsolutePath()).append('\n');
    sb.append("slot = ").append(slotId).append('\n');
    // Keys are generated on the token (or imported into it), sensitive and non-extractable,
    // whatever the vendor default.
    sb.append(
        """
        attributes(generate, CKO_PRIVATE_KEY, *) = {
          CKA_TOKEN = true
          CKA_PRIVATE = true
          CKA_SENSITIVE = true
          CKA_EXTRACTABLE = false
        }
        attributes(generate, CKO_PUBLIC_KEY, *) = {
          CKA_TOKEN = true
        }
        attributes(import, CKO_PRIVATE_KEY, *) = {
          CKA_TOKEN = true
          CKA_PRIVATE = true
          CKA_SENSITIVE = true
          CKA_EXTRACTABLE = false
        }
        """);
    // Each key gets only the usages Keyhold needs: EC signs; RSA signs and decrypts (pre-masters);
    // neither unwraps or derives. The public halves likewise verify (and RSA encrypts) only.
    for (String op : new String[] {"generate", "import"}) {
      sb.append("attributes(")
          .append(op)
          .append(
              """
              , CKO_PRIVATE_KEY, CKK_EC) = {
                CKA_SIGN = true
                CKA_DECRYPT = false
                CKA_UNWRAP = false
                CKA_DERIVE = false
              }
              """);
      sb.append("attributes(")
          .append(op)
          .append(
              """
              , CKO_PRIVATE_KEY, CKK_RSA) = {
                CKA_SIGN = true
                CKA_DECRYPT = true
                CKA_UNWRAP = false
                CKA_DERIVE = false
              }
              """);
    }
    sb.append(
        """
        attributes(generate, CKO_PUBLIC_KEY, CKK_EC) = {
          CKA_VERIFY = true
          CKA_ENCRYPT = false
          CKA_WRAP = false
          CKA_DERIVE = false
        }
        attributes(generate, CKO_PUBLIC_KEY, CKK_RSA) = {
          CKA_VERIFY = true
          CKA_ENCRYPT = true
          CKA_WRAP = false
          CKA_DERIVE = false
        }
        """);
    // The vendor specifics (library, sessions, decryptMode, padding codes) are the profile's
    // defaults in HsmConfig (hsm-config/profiles/); the provider configuration is the same for all.
    hsm.vendorProfile();
    return sb.toString();
  }
}
