package dev.keyhold.client.jca;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.io.NotSerializableException;
import java.io.ObjectStreamException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.LinkedHashSet;
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
    Set<SignatureScheme> schemes = new LinkedHashSet<>();
    for (int code : info.getSchemesList()) {
      SignatureScheme.fromCodePoint(code).ifPresent(schemes::add);
    }
    X509EncodedKeySpec spki = new X509EncodedKeySpec(info.getSpkiDer().toByteArray());
    if (info.getKeyType() == KeyType.KEY_TYPE_RSA) {
      PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(spki);
      if (!(pub instanceof RSAPublicKey rsa)) {
        throw new GeneralSecurityException("key " + info.getName() + ": not an RSA public key");
      }
      return new KeyholdRsaPrivateKey(client, info.getName(), rsa, schemes);
    }
    if (info.getKeyType() == KeyType.KEY_TYPE_EC) {
      PublicKey pub = KeyFactory.getInstance("EC").generatePublic(spki);
      if (!(pub instanceof ECPublicKey ec)) {
        throw new GeneralSecurityException("key " + info.getName() + ": not an EC public key");
      }
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      // The curve name is what binds ECDSA schemes; derive it if an older service left it out.
      String curve =
          info.getCurve().isEmpty()
              ? switch (bits) {
                case 256 -> "secp256r1";
                case 384 -> "secp384r1";
                case 521 -> "secp521r1";
                default -> "";
              }
              : info.getCurve();
      return new KeyholdEcPrivateKey(client, info.getName(), ec, bits, curve, schemes);
    }
    throw new GeneralSecurityException(
        "key " + info.getName() + " has an unsupported type " + info.getKeyType());
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
