package dev.keyhold.client.jca;

import dev.keyhold.client.keys.RemoteKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.io.NotSerializableException;
import java.io.ObjectStreamException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Objects;
import java.util.Set;

/**
 * A handle to a private key that stays in a Keyhold service: the client to reach it, the key's name
 * and its public facts (public key, size, curve, usable schemes). {@link KeyholdProvider}'s
 * Signature and Cipher services accept only these handles, and send the service a digest or a
 * ciphertext.
 *
 * <p>Security guarantees: a handle holds no private material; {@link #getEncoded()} returns null
 * and the handle cannot be serialized. On purpose it implements neither {@code RSAPrivateKey} nor
 * {@code ECPrivateKey}: the JDK's providers claim keys of those types, and would then fail to sign
 * with a key they cannot read.
 */
public abstract sealed class KeyholdPrivateKey implements PrivateKey
    permits KeyholdRsaPrivateKey, KeyholdEcPrivateKey {
  private static final long serialVersionUID = 1L;

  private final transient KeyholdClient client;
  private final String keyName;
  private final transient PublicKey publicKey;
  private final int keyBits;
  private final String curve;
  private final transient Set<SignatureScheme> schemes;

  KeyholdPrivateKey(
      KeyholdClient client,
      String keyName,
      PublicKey publicKey,
      int keyBits,
      String curve,
      Set<SignatureScheme> schemes) {
    this.client = Objects.requireNonNull(client, "client");
    this.keyName = Objects.requireNonNull(keyName, "keyName");
    this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
    this.keyBits = keyBits;
    this.curve = curve == null ? "" : curve;
    this.schemes = Set.copyOf(schemes);
  }

  /**
   * Fetches the key's public facts with {@code GetKey} and returns a handle for it.
   *
   * @throws KeyholdException if the service refuses or cannot be reached
   * @throws GeneralSecurityException if the service's public key cannot be parsed
   */
  public static KeyholdPrivateKey fetch(KeyholdClient client, String keyName)
      throws GeneralSecurityException {
    return of(client, client.getKey(keyName));
  }

  /** A handle built from a {@link KeyInfo} that the caller already has. */
  public static KeyholdPrivateKey of(KeyholdClient client, KeyInfo info)
      throws GeneralSecurityException {
    return of(client, RemoteKey.parse(info));
  }

  /** A handle for a key already parsed from its {@code KeyInfo}. */
  public static KeyholdPrivateKey of(KeyholdClient client, RemoteKey key) {
    if (key.publicKey() instanceof RSAPublicKey rsa) {
      return new KeyholdRsaPrivateKey(client, key.name(), rsa, key.schemes());
    }
    ECPublicKey ec = (ECPublicKey) key.publicKey(); // RemoteKey parses only RSA and EC keys
    return new KeyholdEcPrivateKey(
        client, key.name(), ec, key.keyBits(), key.curve(), key.schemes());
  }

  /** The client through which operations on this key go. */
  public KeyholdClient client() {
    return client;
  }

  /** The key's name in the service (its PKCS#11 label). */
  public String keyName() {
    return keyName;
  }

  /** The matching public key. */
  public PublicKey publicKey() {
    return publicKey;
  }

  /** RSA modulus bits, or the EC field size in bits. */
  public int keyBits() {
    return keyBits;
  }

  /** The TLS curve name for EC keys ("secp256r1", ...); empty for RSA. */
  public String curve() {
    return curve;
  }

  /** The key type, as the wire contract names it. */
  public abstract KeyType keyType();

  /** The schemes the service says this key can serve; empty if it did not say. */
  public Set<SignatureScheme> schemes() {
    return schemes;
  }

  /**
   * Whether this key can sign with {@code scheme}: type, size and curve fit, and the service offers
   * it.
   */
  public boolean supports(SignatureScheme scheme) {
    return scheme.fits(keyType(), keyBits, curve)
        && (schemes.isEmpty() || schemes.contains(scheme));
  }

  /** Null: the private key never leaves the HSM. */
  @Override
  public final String getFormat() {
    return null;
  }

  /** Null: the private key never leaves the HSM. */
  @Override
  public final byte[] getEncoded() {
    return null;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName()
        + "["
        + keyName
        + ", "
        + getAlgorithm()
        + " "
        + keyBits
        + (curve.isEmpty() ? "" : " " + curve)
        + ", via "
        + client.config().target()
        + "]";
  }

  /** A handle is bound to a live client; serializing it would make no sense. */
  protected final Object writeReplace() throws ObjectStreamException {
    throw new NotSerializableException("Keyhold key handles cannot be serialized");
  }
}
