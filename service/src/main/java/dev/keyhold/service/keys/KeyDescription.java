package dev.keyhold.service.keys;

import dev.keyhold.proto.EcCurves;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.List;

/**
 * Public facts about one served key: name, public key, certificate chain, type, size, curve and the
 * schemes it can serve. Immutable; holds nothing private.
 */
@SuppressWarnings("ArrayRecordComponent") // spkiSha256 is a fingerprint, copied on every use
public record KeyDescription(
    String name,
    PublicKey publicKey,
    List<X509Certificate> chain,
    byte[] spkiSha256,
    KeyType type,
    int bits,
    String curve,
    List<SignatureScheme> schemes) {

  public KeyDescription {
    chain = List.copyOf(chain);
    spkiSha256 = spkiSha256.clone();
    schemes = List.copyOf(schemes);
  }

  /** Describes a key from its certificate chain (leaf first). */
  public static KeyDescription of(String name, List<X509Certificate> chain) {
    PublicKey pub = chain.get(0).getPublicKey();
    KeyType type;
    int bits;
    String curve = null;
    if (pub instanceof RSAPublicKey rsa) {
      type = KeyType.KEY_TYPE_RSA;
      bits = rsa.getModulus().bitLength();
    } else if (pub instanceof ECPublicKey ec) {
      type = KeyType.KEY_TYPE_EC;
      bits = ec.getParams().getCurve().getField().getFieldSize();
      curve = EcCurves.nameOf(ec).orElse(null);
    } else {
      throw new IllegalArgumentException(
          "key '" + name + "' has unsupported type " + pub.getAlgorithm());
    }
    final String c = curve;
    List<SignatureScheme> schemes =
        SignatureScheme.forKeyType(type).stream().filter(s -> s.fits(type, bits, c)).toList();
    return new KeyDescription(
        name, pub, chain, sha256(pub.getEncoded()), type, bits, curve, schemes);
  }

  /**
   * The key's version: the first 16 hex characters of SHA-256 over the DER SubjectPublicKeyInfo and
   * then each certificate of the chain, DER. A renewed certificate or a name moved to another key
   * changes it; clients compare it to know when to refresh what they cache.
   */
  public String version() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(publicKey.getEncoded());
      for (X509Certificate c : chain) {
        md.update(c.getEncoded());
      }
      return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException | java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The RSA modulus length in bytes (the ciphertext and signature length); 0 for EC. */
  public int modulusBytes() {
    return type == KeyType.KEY_TYPE_RSA ? (bits + 7) / 8 : 0;
  }

  @Override
  public byte[] spkiSha256() {
    return spkiSha256.clone();
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyDescription k
        && k.name.equals(name)
        && MessageDigest.isEqual(k.spkiSha256, spkiSha256);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return name + " (" + (type == KeyType.KEY_TYPE_RSA ? "RSA-" + bits : "EC " + curve) + ")";
  }
}
