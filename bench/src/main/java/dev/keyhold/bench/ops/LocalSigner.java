package dev.keyhold.bench.ops;

import dev.keyhold.bench.load.LoadRunner.BlockingOperation;
import dev.keyhold.proto.SignatureScheme;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import javax.crypto.Cipher;

/**
 * The private-key step done in this JVM through a JCA provider: SunPKCS11 on the same token ({@code
 * pkcs11-direct}) or the JDK's software providers ({@code jce}). It uses the same mechanisms as the
 * service ({@code NONEwithRSA} over DigestInfo, {@code NONEwithECDSA}, raw RSA for PSS and for the
 * pre-master secret), a fresh {@code Signature}/{@code Cipher} per operation as the service does,
 * and no fault check, because a user of the provider would not do one.
 */
public final class LocalSigner {
  private LocalSigner() {}

  /**
   * @param provider the provider, or null for the JDK default (software) providers
   */
  public static BlockingOperation operation(
      Workload w, PrivateKey key, PublicKey pub, Provider provider)
      throws GeneralSecurityException {
    if (w.operation() == Workload.Operation.DECRYPT_PREMASTER) {
      byte[] ct = w.premasterCiphertext(pub);
      return () -> rawRsa(provider, key, ct);
    }
    SignatureScheme s = w.scheme();
    return switch (s.padding()) {
      case PKCS1 -> {
        byte[] digestInfo = s.hash().digestInfo(w.digest());
        yield () -> sign(provider, "NONEwithRSA", key, digestInfo);
      }
      case ECDSA -> {
        byte[] digest = w.digest();
        yield () -> sign(provider, "NONEwithECDSA", key, digest);
      }
      case PSS -> {
        // PSS costs one raw RSA private operation plus microseconds of encoding; a block
        // below the modulus stands in for the encoded message.
        int k = (((RSAPublicKey) pub).getModulus().bitLength() + 7) / 8;
        byte[] block = new BigInteger(1, w.digest()).toByteArray();
        byte[] padded = new byte[k];
        System.arraycopy(block, 0, padded, k - block.length, block.length);
        yield () -> rawRsa(provider, key, padded);
      }
    };
  }

  private static byte[] sign(Provider p, String alg, PrivateKey key, byte[] input)
      throws GeneralSecurityException {
    Signature sig = p == null ? Signature.getInstance(alg) : Signature.getInstance(alg, p);
    sig.initSign(key);
    sig.update(input);
    return sig.sign();
  }

  private static byte[] rawRsa(Provider p, PrivateKey key, byte[] input)
      throws GeneralSecurityException {
    Cipher c =
        p == null
            ? Cipher.getInstance("RSA/ECB/NoPadding")
            : Cipher.getInstance("RSA/ECB/NoPadding", p);
    c.init(Cipher.DECRYPT_MODE, key);
    return c.doFinal(input);
  }
}
