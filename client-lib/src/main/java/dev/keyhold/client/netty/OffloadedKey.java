package dev.keyhold.client.netty;

import dev.keyhold.client.keys.RemoteKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One HSM-held key as a TLS stack needs it: its Keyhold name, its public facts and the certificate
 * chain to present. Immutable; the chain is copied in and out.
 *
 * <p>Security note: holds public data only. The leaf certificate's public key must be the key's own
 * (checked by {@link #of}), so a handshake can never present one key's certificate while signing
 * with another.
 */
public final class OffloadedKey {
  private final String name;
  private final KeyType keyType;
  private final int keyBits;
  private final String curve;
  private final byte[] spkiDer;
  private final X509Certificate[] chain;
  private final boolean fromService;

  private OffloadedKey(
      String name,
      KeyType keyType,
      int keyBits,
      String curve,
      byte[] spkiDer,
      X509Certificate[] chain,
      boolean fromService) {
    this.name = name;
    this.keyType = keyType;
    this.keyBits = keyBits;
    this.curve = curve;
    this.spkiDer = spkiDer;
    this.chain = chain;
    this.fromService = fromService;
  }

  /** Fetches a key's description and certificate chain from the service (a blocking call). */
  public static OffloadedKey fetch(KeyholdClient client, String keyName)
      throws KeyholdException, CertificateException {
    return fromService(client.getKey(keyName));
  }

  /**
   * A key with the chain the service holds for it, from its {@code KeyInfo}: contexts built on such
   * keys follow a renewed certificate ({@link KeyholdClientConfig#keyRefreshInterval()}).
   */
  static OffloadedKey fromService(KeyInfo info) throws CertificateException {
    RemoteKey key = parse(info);
    OffloadedKey k = of(key, key.serviceChain());
    return new OffloadedKey(k.name, k.keyType, k.keyBits, k.curve, k.spkiDer, k.chain, true);
  }

  /** The public key of {@link #spkiDer()}, from the leaf certificate. */
  java.security.PublicKey spkiPublicKey() {
    return chain[0].getPublicKey();
  }

  /** Whether the chain came from the service (and follows its renewals), not from the caller. */
  boolean fromService() {
    return fromService;
  }

  /**
   * A key described by the service, presented with {@code chain} (leaf first): the service's own
   * chain, or one the caller loaded from a PEM file.
   *
   * @throws CertificateException if the key's public key cannot be parsed, the chain is empty or
   *     its leaf does not carry the key's public key
   */
  public static OffloadedKey of(KeyInfo info, X509Certificate... chain)
      throws CertificateException {
    return of(parse(info), chain);
  }

  private static OffloadedKey of(RemoteKey key, X509Certificate... chain)
      throws CertificateException {
    if (chain.length == 0) {
      throw new CertificateException("key '" + key.name() + "' has no certificate chain; pass one");
    }
    if (!key.certifiedBy(chain[0])) {
      throw new CertificateException(
          "the leaf certificate "
              + chain[0].getSubjectX500Principal()
              + " does not carry the public key of '"
              + key.name()
              + "'");
    }
    return new OffloadedKey(
        key.name(), key.keyType(), key.keyBits(), key.curve(), key.spkiDer(), chain.clone(), false);
  }

  /** The shared reading of {@code KeyInfo}, with this API's checked exception. */
  private static RemoteKey parse(KeyInfo info) throws CertificateException {
    try {
      return RemoteKey.parse(info);
    } catch (CertificateException e) {
      throw e;
    } catch (GeneralSecurityException e) {
      throw new CertificateException(e.getMessage(), e);
    }
  }

  /** Like {@link #of(KeyInfo, X509Certificate...)} with a list. */
  public static OffloadedKey of(KeyInfo info, List<X509Certificate> chain)
      throws CertificateException {
    return of(info, chain.toArray(new X509Certificate[0]));
  }

  public String name() {
    return name;
  }

  public KeyType keyType() {
    return keyType;
  }

  /** RSA modulus bits, or the EC field size. */
  public int keyBits() {
    return keyBits;
  }

  /** TLS curve name for EC keys ("secp256r1", ...); empty for RSA. */
  public String curve() {
    return curve;
  }

  /** RSA modulus length in bytes; the length of a raw RSA result. */
  public int modulusBytes() {
    return (keyBits + 7) / 8;
  }

  /** The DER SubjectPublicKeyInfo. */
  public byte[] spkiDer() {
    return spkiDer.clone();
  }

  /** The chain to present, leaf first. */
  public X509Certificate[] chain() {
    return chain.clone();
  }

  /** JSSE key-type name: "RSA" or "EC". */
  String jsseKeyType() {
    return keyType == KeyType.KEY_TYPE_EC ? "EC" : "RSA";
  }

  @Override
  public String toString() {
    return "OffloadedKey["
        + name
        + ", "
        + keyType
        + ", "
        + keyBits
        + (curve.isEmpty() ? "" : ", " + curve)
        + "]";
  }
}
