package dev.keyhold.client.keys;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The public facts of one key held by a Keyhold service, parsed once from its {@code KeyInfo}: the
 * one reading of {@code GetKey}'s answer that the JCA handles and the Netty integration share.
 * Immutable.
 *
 * <p>Security note: public data only.
 */
public final class RemoteKey {
  private final KeyInfo info;
  private final PublicKey publicKey;
  private final int keyBits;
  private final String curve;
  private final Set<SignatureScheme> schemes;

  private RemoteKey(
      KeyInfo info, PublicKey publicKey, int keyBits, String curve, Set<SignatureScheme> schemes) {
    this.info = info;
    this.publicKey = publicKey;
    this.keyBits = keyBits;
    this.curve = curve;
    this.schemes = Set.copyOf(schemes);
  }

  /**
   * Parses a key's description.
   *
   * @throws GeneralSecurityException if its type is unsupported or its public key cannot be parsed
   *     as that type
   */
  public static RemoteKey parse(KeyInfo info) throws GeneralSecurityException {
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
      return new RemoteKey(info, rsa, rsa.getModulus().bitLength(), "", schemes);
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
      return new RemoteKey(info, ec, bits, curve, schemes);
    }
    throw new GeneralSecurityException(
        "key " + info.getName() + " has an unsupported type " + info.getKeyType());
  }

  /** The {@code KeyInfo} this was parsed from. */
  public KeyInfo info() {
    return info;
  }

  /** The key's name in the service (its PKCS#11 label). */
  public String name() {
    return info.getName();
  }

  /** The key type, as the wire contract names it. */
  public KeyType keyType() {
    return info.getKeyType();
  }

  /** The public key: an {@link RSAPublicKey} or an {@link ECPublicKey}. */
  public PublicKey publicKey() {
    return publicKey;
  }

  /** The DER SubjectPublicKeyInfo, as the service sent it. */
  public byte[] spkiDer() {
    return info.getSpkiDer().toByteArray();
  }

  /** RSA modulus bits, or the EC field size in bits, read from the public key. */
  public int keyBits() {
    return keyBits;
  }

  /** The key size the service reported ({@code KeyInfo.key_bits}). */
  public int reportedKeyBits() {
    return info.getKeyBits();
  }

  /** The TLS curve name for EC keys ("secp256r1", ...), derived if absent; empty for RSA. */
  public String curve() {
    return curve;
  }

  /** The curve name exactly as the service reported it; empty if it did not. */
  public String reportedCurve() {
    return info.getCurve();
  }

  /** The schemes the service says this key can serve (unknown code points dropped). */
  public Set<SignatureScheme> schemes() {
    return schemes;
  }

  /** The certificate chain the service stores for the key, leaf first; may be empty. */
  public X509Certificate[] serviceChain() throws CertificateException {
    return Certificates.fromDer(info.getCertificateChainList());
  }

  /** Whether {@code cert} carries this key's public key (byte-for-byte SPKI comparison). */
  public boolean certifiedBy(X509Certificate cert) {
    return Arrays.equals(cert.getPublicKey().getEncoded(), info.getSpkiDer().toByteArray());
  }
}
