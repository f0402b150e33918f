package dev.keyhold.client.jca;

import java.security.InvalidAlgorithmParameterException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Optional;
import javax.crypto.KeyGenerator;

/**
 * Carries the ClientHello version from JSSE's UNWRAP_MODE cipher init to its DECRYPT_MODE init of a
 * fresh cipher, on the same handshake thread (see {@link KeyholdRsaCipherSpi}).
 *
 * <p>Why a KeyGenerator: {@code TlsRsaPremasterSecretParameterSpec} lives in a package that
 * java.base does not export, so its getters cannot be called without {@code --add-exports}.
 * SunJCE's public "SunTls12RsaPremasterSecret" KeyGenerator accepts the spec and writes the version
 * JSSE expects (the client version from TLS 1.1 on) into the first two bytes of a fresh random
 * secret, which is all we need.
 */
final class TlsVersionHandoff {
  private static final String SPEC_CLASS =
      "sun.security.internal.spec.TlsRsaPremasterSecretParameterSpec";
  private static final ThreadLocal<Pending> PENDING = new ThreadLocal<>();

  private record Pending(KeyholdRsaPrivateKey key, int clientVersion) {}

  private TlsVersionHandoff() {}

  static void offer(KeyholdRsaPrivateKey key, int clientVersion) {
    PENDING.set(new Pending(key, clientVersion));
  }

  /** The version offered on this thread for this very key handle, once. */
  static Optional<Integer> take(KeyholdRsaPrivateKey key) {
    Pending p = PENDING.get();
    if (p == null) {
      return Optional.empty();
    }
    PENDING.remove();
    return p.key() == key ? Optional.of(p.clientVersion()) : Optional.empty();
  }

  /**
   * The pre-master version that JSSE's TLS parameter spec stands for. A spec of any other class is
   * refused; if this JDK's KeyGenerator cannot read JSSE's spec, TLS 1.2 is assumed rather than
   * failing the handshake (JSSE's UNWRAP init would propagate the error).
   */
  static int clientVersionOf(AlgorithmParameterSpec params)
      throws InvalidAlgorithmParameterException {
    if (!SPEC_CLASS.equals(params.getClass().getName())) {
      throw new InvalidAlgorithmParameterException(
          "Keyhold RSA accepts only JSSE's TLS RSA pre-master parameters, not "
              + params.getClass().getName());
    }
    try {
      KeyGenerator kg = KeyGenerator.getInstance("SunTls12RsaPremasterSecret");
      kg.init(params);
      byte[] b = kg.generateKey().getEncoded();
      int version = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
      java.util.Arrays.fill(b, (byte) 0);
      return version;
    } catch (java.security.GeneralSecurityException | RuntimeException e) {
      return KeyholdRsaCipherSpi.DEFAULT_CLIENT_VERSION;
    }
  }
}
