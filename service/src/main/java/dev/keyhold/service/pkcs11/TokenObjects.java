package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.CK_MECHANISM;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * What SunPKCS11 does not expose, through the JDK's PKCS#11 wrapper on the same loaded module and
 * the same logged-in application (login state is per application, so a session opened here sees the
 * private objects): finding a key's objects by the label of its certificate, reading their
 * attributes ({@code CKA_ALLOWED_MECHANISMS} above all, and for {@code keys list} a key's {@code
 * CKA_ID} and usages), setting them (labels, usages), the token's mechanism list, and
 * CKM_RSA_PKCS_PSS over a digest (SunPKCS11's {@code RSASSA-PSS} hashes its input). Never reads a
 * key value.
 *
 * <p>Sessions are pooled: each call takes one, uses it for one complete operation and returns it; a
 * session whose operation failed is closed rather than reused.
 */
public final class TokenObjects {
  /** CKA_ALLOWED_MECHANISMS (CKF_ARRAY_ATTRIBUTE | 0x600). */
  public static final long CKA_ALLOWED_MECHANISMS = 0x40000600L;

  public static final long CKM_RSA_PKCS = 0x1L;
  public static final long CKM_RSA_X_509 = 0x3L;
  public static final long CKM_RSA_PKCS_PSS = 0xDL;

  private final PKCS11 p11;
  private final long slot;
  private final ConcurrentLinkedDeque<Long> idle = new ConcurrentLinkedDeque<>();

  private TokenObjects(PKCS11 p11, long slot) {
    this.p11 = p11;
    this.slot = slot;
  }

  /**
   * The wrapper on the library SunPKCS11 loaded for {@code hsm}. Throws {@link IllegalAccessError}
   * when the JVM runs without {@code --add-exports
   * jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED}.
   */
  static TokenObjects open(HsmConfig hsm, long slot) throws PKCS11Exception {
    try {
      return new TokenObjects(Pkcs11Token.module(hsm), slot);
    } catch (java.io.IOException e) {
      throw new PKCS11Exception(PKCS11Exception.CKR_GENERAL_ERROR, e.getMessage());
    }
  }

  /** One call on a pooled session. */
  interface SessionCall<T> {
    T call(long session) throws PKCS11Exception;
  }

  <T> T withSession(SessionCall<T> call) throws PKCS11Exception {
    Long s = idle.pollFirst();
    long session =
        s != null
            ? s
            : p11.C_OpenSession(
                slot,
                PKCS11Constants.CKF_SERIAL_SESSION | PKCS11Constants.CKF_RW_SESSION,
                null,
                null);
    boolean ok = false;
    try {
      T out = call.call(session);
      ok = true;
      return out;
    } finally {
      if (ok) {
        idle.addFirst(session);
      } else {
        try {
          p11.C_CloseSession(session);
        } catch (PKCS11Exception e) {
          // the session is gone either way
        }
      }
    }
  }

  /** Closes the pooled sessions. */
  void close() {
    while (!idle.isEmpty()) {
      Long s = idle.pollFirst();
      if (s == null) {
        break;
      }
      try {
        p11.C_CloseSession(s);
      } catch (PKCS11Exception e) {
        // closing anyway
      }
    }
  }

  /** The mechanisms the token offers. */
  public long[] tokenMechanisms() throws PKCS11Exception {
    return p11.C_GetMechanismList(slot);
  }

  /**
   * The handles of objects of {@code objectClass} (CKO_*) that share the CKA_ID of the certificate
   * labelled {@code name} (how SunPKCS11 pairs a key with its certificate), or labelled {@code
   * name} themselves.
   */
  public long[] objectsOf(String name, long objectClass) throws PKCS11Exception {
    return withSession(
        session -> {
          List<Long> out = new ArrayList<>();
          for (long cert :
              find(
                  session,
                  new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, PKCS11Constants.CKO_CERTIFICATE),
                  new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL, name))) {
            CK_ATTRIBUTE[] id = {new CK_ATTRIBUTE(PKCS11Constants.CKA_ID)};
            p11.C_GetAttributeValue(session, cert, id);
            for (long h :
                find(
                    session,
                    new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, objectClass),
                    new CK_ATTRIBUTE(PKCS11Constants.CKA_ID, id[0].getByteArray()))) {
              if (!out.contains(h)) {
                out.add(h);
              }
            }
          }
          for (long h :
              find(
                  session,
                  new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, objectClass),
                  new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL, name))) {
            if (!out.contains(h)) {
              out.add(h);
            }
          }
          return out.stream().mapToLong(Long::longValue).toArray();
        });
  }

  /** The handles of the objects matching {@code template}. */
  public long[] findObjects(CK_ATTRIBUTE... template) throws PKCS11Exception {
    return withSession(session -> find(session, template));
  }

  private long[] find(long session, CK_ATTRIBUTE... template) throws PKCS11Exception {
    p11.C_FindObjectsInit(session, template);
    try {
      List<Long> out = new ArrayList<>();
      while (true) {
        long[] batch = p11.C_FindObjects(session, 16);
        if (batch.length == 0) {
          break;
        }
        for (long h : batch) {
          out.add(h);
        }
      }
      return out.stream().mapToLong(Long::longValue).toArray();
    } finally {
      p11.C_FindObjectsFinal(session);
    }
  }

  /**
   * The object's CKA_ALLOWED_MECHANISMS, or null when the token has no such attribute on it (then
   * every mechanism the key type supports is allowed). An empty array also means "no restriction"
   * on SoftHSM, which stores the attribute empty by default.
   */
  public long[] allowedMechanisms(long object) throws PKCS11Exception {
    try {
      Object v = attribute(object, CKA_ALLOWED_MECHANISMS);
      if (v instanceof long[] l) {
        return l;
      }
      if (v instanceof byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        long[] out = new long[b.length / Long.BYTES];
        for (int i = 0; i < out.length; i++) {
          out[i] = buf.getLong();
        }
        return out;
      }
      return v == null ? new long[0] : null;
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() == PKCS11Exception.CKR_ATTRIBUTE_TYPE_INVALID) {
        return null;
      }
      throw e;
    }
  }

  /** The raw value of one attribute, as the wrapper converts it. */
  public Object attribute(long object, long type) throws PKCS11Exception {
    return withSession(
        session -> {
          CK_ATTRIBUTE[] a = {new CK_ATTRIBUTE(type)};
          p11.C_GetAttributeValue(session, object, a);
          return a[0].pValue;
        });
  }

  /** A boolean attribute. */
  public boolean booleanAttribute(long object, long type) throws PKCS11Exception {
    return withSession(
        session -> {
          CK_ATTRIBUTE[] a = {new CK_ATTRIBUTE(type)};
          p11.C_GetAttributeValue(session, object, a);
          return a[0].getBoolean();
        });
  }

  /** Sets attributes of an object (e.g. a label), where the token allows it. */
  public void setAttributes(long object, CK_ATTRIBUTE... attrs) throws PKCS11Exception {
    withSession(
        session -> {
          p11.C_SetAttributeValue(session, object, attrs);
          return null;
        });
  }

  /** A single-part C_Sign with {@code mechanism} (e.g. CKM_RSA_PKCS_PSS over a digest). */
  byte[] sign(long key, CK_MECHANISM mechanism, byte[] data) throws PKCS11Exception {
    return withSession(
        session -> {
          p11.C_SignInit(session, mechanism, key);
          return p11.C_Sign(session, data);
        });
  }

  /** Whether {@code mechanism} is in the allowed list (null or empty: no restriction). */
  public static boolean allows(long[] allowed, long mechanism) {
    return allowed == null
        || allowed.length == 0
        || Arrays.stream(allowed).anyMatch(m -> m == mechanism);
  }

  /** The attributes of one private key object, for {@code keys list}. */
  public record PrivateKeyFacts(
      String id, boolean sign, boolean decrypt, boolean sensitive, boolean extractable) {}

  /** The facts of the private key labelled {@code label}, if the token has one. */
  public static Optional<PrivateKeyFacts> privateKey(Pkcs11Token token, String label) {
    try {
      TokenObjects objects = token.objects();
      long[] keys = objects.objectsOf(label, PKCS11Constants.CKO_PRIVATE_KEY);
      if (keys.length == 0) {
        return Optional.empty();
      }
      CK_ATTRIBUTE[] a =
          objects.attributes(
              keys[0],
              PKCS11Constants.CKA_ID,
              PKCS11Constants.CKA_SIGN,
              PKCS11Constants.CKA_DECRYPT,
              PKCS11Constants.CKA_SENSITIVE,
              PKCS11Constants.CKA_EXTRACTABLE);
      return Optional.of(
          new PrivateKeyFacts(
              a[0].pValue == null ? "" : HexFormat.of().formatHex(a[0].getByteArray()),
              a[1].getBoolean(),
              a[2].getBoolean(),
              a[3].getBoolean(),
              a[4].getBoolean()));
    } catch (PKCS11Exception e) {
      throw new ConfigException(
          "cannot read the attributes of key '"
              + label
              + "' on "
              + token.config().describeToken()
              + ": "
              + HsmFailures.rootMessage(e));
    }
  }

  /** Several attributes of one object, read in one C_GetAttributeValue. */
  public CK_ATTRIBUTE[] attributes(long object, long... types) throws PKCS11Exception {
    CK_ATTRIBUTE[] a = new CK_ATTRIBUTE[types.length];
    for (int i = 0; i < types.length; i++) {
      a[i] = new CK_ATTRIBUTE(types[i]);
    }
    return withSession(
        session -> {
          p11.C_GetAttributeValue(session, object, a);
          return a;
        });
  }
}
