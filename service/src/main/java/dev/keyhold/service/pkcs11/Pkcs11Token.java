package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.SunPkcs11Profile;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.KeyDescription;
import java.io.IOException;
import java.security.AuthProvider;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS;
import sun.security.pkcs11.wrapper.CK_TOKEN_INFO;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * A logged-in PKCS#11 token reached through a SunPKCS11 provider instance of its own. The provider
 * is not installed globally: callers pass it explicitly, so nothing else in the JVM picks it up by
 * accident.
 *
 * <p>Security note: the PIN is read from its source, used for login and wiped; it never reaches a
 * log line or an exception message.
 */
public final class Pkcs11Token {
  private static final Logger log = LoggerFactory.getLogger(Pkcs11Token.class);

  private final HsmConfig config;
  private final long slot;
  private final Provider provider;
  private final KeyStore keyStore;
  private TokenObjects objects;

  private Pkcs11Token(HsmConfig config, long slot, Provider provider, KeyStore keyStore) {
    this.config = config;
    this.slot = slot;
    this.provider = provider;
    this.keyStore = keyStore;
  }

  /**
   * Loads the library, finds the slot, logs in. Failures are {@link ConfigException}s that say what
   * to fix.
   */
  public static Pkcs11Token open(HsmConfig config) {
    return open(config, 1);
  }

  /**
   * {@link #open} for a service starting: a transient module failure while its token label is
   * looked up is asked again ({@link TokenLocator#START_ATTEMPTS}), as when replicas start together
   * on one SoftHSM token. Recovery opens with {@link #open}: its supervisor backs off by itself,
   * and must not sleep on the thread that schedules its probes.
   */
  public static Pkcs11Token openAtStart(HsmConfig config) {
    return open(config, TokenLocator.START_ATTEMPTS);
  }

  private static Pkcs11Token open(HsmConfig config, int lookupAttempts) {
    config.checkLibraryExists();
    long slot = TokenLocator.resolve(config, lookupAttempts);
    Provider provider;
    try {
      provider =
          Security.getProvider("SunPKCS11")
              .configure("--" + SunPkcs11Profile.render(config, slot, "Keyhold-" + slot));
    } catch (RuntimeException e) {
      throw new ConfigException(
          "cannot start SunPKCS11 on "
              + config.describeToken()
              + " (slot "
              + slot
              + ") through "
              + config.library()
              + ": "
              + HsmFailures.rootMessage(e)
              + " ("
              + config.vendorProfile().hints()
              + ")",
          e);
    }
    KeyStore ks;
    char[] pin = config.pin().read();
    try {
      ks = KeyStore.getInstance("PKCS11", provider);
      ks.load(null, pin);
    } catch (IOException e) {
      HsmException.Reason why = HsmFailures.classify(e).reason();
      if (hasCause(e, FailedLoginException.class) || why == HsmException.Reason.PIN_INCORRECT) {
        throw new ConfigException(
            "HSM login failed on "
                + config.describeToken()
                + ": the PIN from "
                + config.pin()
                + " is wrong");
      }
      if (why == HsmException.Reason.PIN_LOCKED) {
        throw new ConfigException(
            "HSM login failed on " + config.describeToken() + ": the user PIN is locked");
      }
      throw new ConfigException(
          "HSM login failed on " + config.describeToken() + ": " + HsmFailures.rootMessage(e), e);
    } catch (GeneralSecurityException e) {
      throw new ConfigException(
          "cannot open the key store of "
              + config.describeToken()
              + ": "
              + HsmFailures.rootMessage(e),
          e);
    } finally {
      Arrays.fill(pin, '\0');
    }
    log.info(
        "logged in to {} (slot {}) through {}", config.describeToken(), slot, config.library());
    return new Pkcs11Token(config, slot, provider, ks);
  }

  public Provider provider() {
    return provider;
  }

  public long slot() {
    return slot;
  }

  public HsmConfig config() {
    return config;
  }

  KeyStore keyStore() {
    return keyStore;
  }

  /** Discovers every private key with a certificate beside it. */
  public List<Pkcs11Key> discoverKeys() {
    return discoverKeys(keyStore, d -> null);
  }

  /**
   * Reads the token's key and certificate objects again, on this provider, and discovers its keys:
   * certificates imported and labels moved by another process since {@link #open} show up here.
   * SunPKCS11's key store maps labels once per load, so this loads a fresh one (the token is
   * already logged in; the load does not log in again). {@code known} returns the key already held
   * for a description that did not change (or null): such keys are not set up, nor logged, again.
   */
  public List<Pkcs11Key> rescanKeys(java.util.function.Function<KeyDescription, Pkcs11Key> known) {
    char[] pin = config.pin().read();
    try {
      KeyStore fresh = KeyStore.getInstance("PKCS11", provider);
      fresh.load(null, pin);
      return discoverKeys(fresh, known);
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException(
          "cannot re-read the keys on "
              + config.describeToken()
              + ": "
              + HsmFailures.rootMessage(e),
          e);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private List<Pkcs11Key> discoverKeys(
      KeyStore keyStore, java.util.function.Function<KeyDescription, Pkcs11Key> known) {
    boolean first = keyStore == this.keyStore;
    List<Pkcs11Key> keys = new ArrayList<>();
    try {
      for (String alias : Collections.list(keyStore.aliases())) {
        if (!keyStore.isKeyEntry(alias)) {
          continue;
        }
        PrivateKey priv = (PrivateKey) keyStore.getKey(alias, null);
        Certificate[] chain = keyStore.getCertificateChain(alias);
        if (priv == null || chain == null || chain.length == 0) {
          if (first) {
            log.warn("skipping key '{}': no certificate beside it", alias);
          }
          continue;
        }
        List<X509Certificate> x509 = new ArrayList<>();
        for (Certificate c : chain) {
          x509.add((X509Certificate) c);
        }
        KeyDescription description;
        try {
          description = KeyDescription.of(alias, x509);
        } catch (IllegalArgumentException e) {
          if (first) {
            log.warn("skipping key '{}': {}", alias, e.getMessage());
          }
          continue;
        }
        Pkcs11Key held = known.apply(description);
        keys.add(held != null ? held : withRsaPath(description, priv));
      }
    } catch (GeneralSecurityException e) {
      throw new ConfigException(
          "cannot list the keys on " + config.describeToken() + ": " + HsmFailures.rootMessage(e),
          e);
    }
    keys.sort((a, b) -> a.description().name().compareTo(b.description().name()));
    return keys;
  }

  /**
   * Asks the module for the token's information (C_GetTokenInfo) on the token's slot: the cheap
   * half of the health probe. Throws a classified {@link HsmException} when the token does not
   * answer or is not there.
   */
  public void checkTokenInfo() {
    try {
      CK_TOKEN_INFO info = module(config).C_GetTokenInfo(slot);
      if ((info.flags & PKCS11Constants.CKF_TOKEN_INITIALIZED) == 0) {
        throw new HsmException(
            HsmException.Reason.TOKEN_ABSENT,
            "CKR_TOKEN_NOT_RECOGNIZED",
            "the token in slot " + slot + " is not initialised",
            null);
      }
    } catch (PKCS11Exception | java.io.IOException e) {
      throw HsmFailures.classify(e);
    }
  }

  /**
   * Closes the wrapper's pooled sessions, logs out and lets the provider go: its sessions are
   * closed by SunPKCS11 as they are collected. Best effort; the token may be gone already.
   */
  public void logout() {
    synchronized (this) {
      if (objects != null) {
        objects.close();
      }
    }
    try {
      ((AuthProvider) provider).logout();
    } catch (LoginException | RuntimeException e) {
      log.debug("logout from {} failed: {}", config.describeToken(), HsmFailures.rootMessage(e));
    }
  }

  /**
   * The JDK's wrapper of the module, initialised as SunPKCS11 initialises it (see TokenLocator).
   */
  static PKCS11 module(HsmConfig hsm) throws java.io.IOException, PKCS11Exception {
    CK_C_INITIALIZE_ARGS init = new CK_C_INITIALIZE_ARGS();
    init.flags = PKCS11Constants.CKF_OS_LOCKING_OK;
    return PKCS11.getInstance(
        hsm.library().toAbsolutePath().toString(), "C_GetFunctionList", init, false);
  }

  /**
   * Picks how an RSA key's PSS signatures and pre-master decryptions are done from what the key
   * allows (its CKA_ALLOWED_MECHANISMS, and the token's mechanism list), and logs the choice once.
   */
  private Pkcs11Key withRsaPath(KeyDescription description, PrivateKey priv) {
    String name = description.name();
    Set<String> bad = Set.copyOf(config.badPaddingCodes());
    if (description.modulusBytes() == 0) {
      return new Pkcs11Key(description, priv, provider, bad);
    }
    long[] handles;
    long[] allowed;
    long[] tokenMechs;
    TokenObjects objects;
    try {
      objects = objects();
      handles = objects.objectsOf(name, PKCS11Constants.CKO_PRIVATE_KEY);
      if (handles.length != 1) {
        log.warn(
            "key '{}': {} private key objects share its certificate's CKA_ID; assuming raw RSA"
                + " (CKM_RSA_X_509) is allowed",
            name,
            handles.length);
        return new Pkcs11Key(description, priv, provider, bad);
      }
      allowed = objects.allowedMechanisms(handles[0]);
      tokenMechs = objects.tokenMechanisms();
    } catch (PKCS11Exception | IllegalAccessError e) {
      log.warn(
          "key '{}': cannot read its allowed mechanisms ({}); assuming raw RSA (CKM_RSA_X_509) is"
              + " allowed",
          name,
          e instanceof IllegalAccessError
              ? "the JVM needs --add-exports"
                  + " jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED"
              : e.getMessage());
      return new Pkcs11Key(description, priv, provider, bad);
    }
    boolean raw =
        TokenObjects.allows(allowed, TokenObjects.CKM_RSA_X_509)
            && contains(tokenMechs, TokenObjects.CKM_RSA_X_509);
    if (raw) {
      log.info(
          "key '{}': raw RSA (CKM_RSA_X_509) allowed: PSS encoded in the service, pre-master per"
              + " hsm.decryptMode",
          name);
      return new Pkcs11Key(description, priv, provider, bad, Pkcs11Key.RsaPath.RAW_RSA, objects, 0);
    }
    boolean pss =
        TokenObjects.allows(allowed, TokenObjects.CKM_RSA_PKCS_PSS)
            && contains(tokenMechs, TokenObjects.CKM_RSA_PKCS_PSS);
    log.info(
        "key '{}': raw RSA (CKM_RSA_X_509) not allowed: PSS by {}, pre-master by CKM_RSA_PKCS",
        name,
        pss ? "CKM_RSA_PKCS_PSS over the digest" : "nothing (the key allows no CKM_RSA_PKCS_PSS)");
    return new Pkcs11Key(
        description, priv, provider, bad, Pkcs11Key.RsaPath.NO_RAW_RSA, objects, handles[0]);
  }

  private static boolean contains(long[] list, long mechanism) {
    for (long m : list) {
      if (m == mechanism) {
        return true;
      }
    }
    return false;
  }

  /** The PKCS#11 wrapper on this token, opened on first use. */
  public synchronized TokenObjects objects() throws PKCS11Exception {
    if (objects == null) {
      objects = TokenObjects.open(config, slot);
    }
    return objects;
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
