package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import java.util.HexFormat;
import java.util.Optional;
import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * Reads the PKCS#11 attributes of a private key object that the JCA key store does not show: its
 * {@code CKA_ID} and what the token lets it do. For {@code keys list}; never reads key values.
 */
public final class TokenObjects {
  private TokenObjects() {}

  private static long[] find(PKCS11 p11, long session, long objectClass, byte[] id)
      throws PKCS11Exception {
    CK_ATTRIBUTE[] template =
        id == null
            ? new CK_ATTRIBUTE[] {new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, objectClass)}
            : new CK_ATTRIBUTE[] {
              new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, objectClass),
              new CK_ATTRIBUTE(PKCS11Constants.CKA_ID, id)
            };
    p11.C_FindObjectsInit(session, template);
    try {
      return p11.C_FindObjects(session, 4096);
    } finally {
      p11.C_FindObjectsFinal(session);
    }
  }

  /** The attributes of one private key object. */
  public record PrivateKeyFacts(
      String id, boolean sign, boolean decrypt, boolean sensitive, boolean extractable) {}

  /** The facts of the private key labelled {@code label}, if the token has one. */
  public static Optional<PrivateKeyFacts> privateKey(Pkcs11Token token, String label) {
    try {
      CK_C_INITIALIZE_ARGS init = new CK_C_INITIALIZE_ARGS();
      init.flags = PKCS11Constants.CKF_OS_LOCKING_OK;
      PKCS11 p11 =
          PKCS11.getInstance(
              token.config().library().toAbsolutePath().toString(),
              "C_GetFunctionList",
              init,
              false);
      // The token is logged in already (login is per application), so a fresh session sees its
      // private objects.
      long session =
          p11.C_OpenSession(token.slot(), PKCS11Constants.CKF_SERIAL_SESSION, null, null);
      try {
        // SunPKCS11 names a key entry by its certificate's CKA_LABEL and pairs the private key
        // with it by CKA_ID (private keys it generates carry no label).
        byte[] id = null;
        for (long h : find(p11, session, PKCS11Constants.CKO_CERTIFICATE, null)) {
          CK_ATTRIBUTE[] l = {
            new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL), new CK_ATTRIBUTE(PKCS11Constants.CKA_ID)
          };
          p11.C_GetAttributeValue(session, h, l);
          if (l[0].pValue != null && label.equals(new String(l[0].getCharArray()))) {
            id = l[1].getByteArray();
            break;
          }
        }
        if (id == null) {
          return Optional.empty();
        }
        long[] keys = find(p11, session, PKCS11Constants.CKO_PRIVATE_KEY, id);
        if (keys.length == 0) {
          return Optional.empty();
        }
        CK_ATTRIBUTE[] attrs = {
          new CK_ATTRIBUTE(PKCS11Constants.CKA_SIGN),
          new CK_ATTRIBUTE(PKCS11Constants.CKA_DECRYPT),
          new CK_ATTRIBUTE(PKCS11Constants.CKA_SENSITIVE),
          new CK_ATTRIBUTE(PKCS11Constants.CKA_EXTRACTABLE)
        };
        p11.C_GetAttributeValue(session, keys[0], attrs);
        return Optional.of(
            new PrivateKeyFacts(
                HexFormat.of().formatHex(id),
                attrs[0].getBoolean(),
                attrs[1].getBoolean(),
                attrs[2].getBoolean(),
                attrs[3].getBoolean()));
      } finally {
        p11.C_CloseSession(session);
      }
    } catch (PKCS11Exception e) {
      throw new ConfigException(
          "cannot read the attributes of key '"
              + label
              + "' on "
              + token.config().describeToken()
              + ": "
              + HsmFailures.rootMessage(e));
    } catch (java.io.IOException e) {
      throw new ConfigException(
          "cannot load PKCS#11 library " + token.config().library() + ": " + e.getMessage());
    }
  }
}
