package dev.keyhold.client.jca;

import dev.keyhold.proto.SignatureScheme.Hash;
import dev.keyhold.proto.SignatureScheme.Padding;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The JCA provider for keys held by Keyhold. Its services, all restricted to {@link
 * KeyholdPrivateKey} handles through {@code SupportedKeyClasses}:
 *
 * <ul>
 *   <li>Signature {@code SHA256withRSA}, {@code SHA384withRSA}, {@code SHA512withRSA}, {@code
 *       RSASSA-PSS} (with a {@code PSSParameterSpec}), {@code SHA256withECDSA}, {@code
 *       SHA384withECDSA}, {@code SHA512withECDSA};
 *   <li>Cipher {@code RSA/ECB/PKCS1Padding}, decrypt/unwrap of TLS pre-master secrets only;
 *   <li>KeyStore {@code Keyhold}, see {@link KeyholdKeyStoreSpi}.
 * </ul>
 *
 * <p>Install it once with {@link #install()}. Because every service declares its key class, the
 * JDK's delayed provider selection hands Keyhold only Keyhold handles; every other key still goes
 * to the JDK's providers, even though Keyhold sits first in the list.
 *
 * <p>Security note: the provider never sees private key material; it hashes locally and sends the
 * service a digest or a ciphertext. Caveat of any high-priority provider: code that calls {@code
 * Signature.getProvider()} or {@code update()} <em>before</em> {@code initSign/initVerify} disables
 * delayed selection and binds the first provider; JSSE and the JDK's certificate checks do not do
 * that.
 */
public final class KeyholdProvider extends Provider {
  private static final long serialVersionUID = 1L;

  /** The provider name, as used with {@code Signature.getInstance(alg, "Keyhold")}. */
  public static final String NAME = "Keyhold";

  private static final Map<String, String> KEY_CLASSES =
      Map.of("SupportedKeyClasses", KeyholdPrivateKey.class.getName());

  /** Creates the provider; most callers want {@link #install()} instead. */
  public KeyholdProvider() {
    super(
        NAME,
        "1.0",
        "Keyhold: TLS private-key operations in a remote HSM (Signature, Cipher, KeyStore)");
    signature(
        "SHA256withRSA",
        List.of("1.2.840.113549.1.1.11"),
        () -> new KeyholdSignatureSpi(Padding.PKCS1, Hash.SHA256));
    signature(
        "SHA384withRSA",
        List.of("1.2.840.113549.1.1.12"),
        () -> new KeyholdSignatureSpi(Padding.PKCS1, Hash.SHA384));
    signature(
        "SHA512withRSA",
        List.of("1.2.840.113549.1.1.13"),
        () -> new KeyholdSignatureSpi(Padding.PKCS1, Hash.SHA512));
    signature(
        "RSASSA-PSS",
        List.of("1.2.840.113549.1.1.10", "PSS"),
        () -> new KeyholdSignatureSpi(Padding.PSS, null));
    signature(
        "SHA256withECDSA",
        List.of("1.2.840.10045.4.3.2"),
        () -> new KeyholdSignatureSpi(Padding.ECDSA, Hash.SHA256));
    signature(
        "SHA384withECDSA",
        List.of("1.2.840.10045.4.3.3"),
        () -> new KeyholdSignatureSpi(Padding.ECDSA, Hash.SHA384));
    signature(
        "SHA512withECDSA",
        List.of("1.2.840.10045.4.3.4"),
        () -> new KeyholdSignatureSpi(Padding.ECDSA, Hash.SHA512));
    putService(
        new LambdaService(
            this,
            "Cipher",
            "RSA/ECB/PKCS1Padding",
            KeyholdRsaCipherSpi.class.getName(),
            List.of(),
            KEY_CLASSES,
            KeyholdRsaCipherSpi::new));
    putService(
        new LambdaService(
            this,
            "KeyStore",
            "Keyhold",
            KeyholdKeyStoreSpi.class.getName(),
            List.of(),
            null,
            KeyholdKeyStoreSpi::new));
  }

  /**
   * Installs the provider at the highest priority, once per JVM, and returns the installed
   * instance. Safe to call many times and from many threads.
   */
  public static synchronized Provider install() {
    Provider existing = Security.getProvider(NAME);
    if (existing != null) {
      return existing;
    }
    KeyholdProvider p = new KeyholdProvider();
    Security.insertProviderAt(p, 1);
    return p;
  }

  private void signature(String name, List<String> aliases, Supplier<Object> spi) {
    putService(
        new LambdaService(
            this,
            "Signature",
            name,
            KeyholdSignatureSpi.class.getName(),
            aliases,
            KEY_CLASSES,
            spi));
  }

  /** A service that constructs its SPI directly, without reflection. */
  private static final class LambdaService extends Service {
    private final Supplier<Object> factory;

    LambdaService(
        Provider p,
        String type,
        String algorithm,
        String className,
        List<String> aliases,
        Map<String, String> attributes,
        Supplier<Object> factory) {
      super(p, type, algorithm, className, aliases, attributes);
      this.factory = factory;
    }

    @Override
    public Object newInstance(Object constructorParameter) throws NoSuchAlgorithmException {
      if (constructorParameter != null && !getType().equals("KeyStore")) {
        throw new java.security.InvalidParameterException(
            "constructorParameter not used with " + getType() + " engines");
      }
      return factory.get();
    }

    @Override
    public boolean supportsParameter(Object parameter) {
      if (getType().equals("KeyStore")) {
        return false;
      }
      // The attribute alone would do; checking here avoids a class lookup per call.
      return parameter instanceof KeyholdPrivateKey;
    }
  }
}
