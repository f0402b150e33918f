package dev.keyhold.bench.ops;

import dev.keyhold.bench.load.LoadRunner.BlockingOperation;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.api.LocalHsm;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;

/**
 * The private-key step done in this JVM through a JCA provider: SunPKCS11 on the same token ({@code
 * pkcs11-direct}) or the JDK's software providers ({@code jce}). It uses the same mechanisms as the
 * service (its one table, through {@link LocalHsm}: raw RSA for PSS and for the pre-master secret),
 * a fresh {@code Signature}/{@code Cipher} per operation as the service does, and no fault check,
 * because a user of the provider would not do one.
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
      return () -> LocalHsm.rawRsa(provider, key, ct);
    }
    SignatureScheme s = w.scheme();
    if (LocalHsm.signsWithRawRsa(s)) {
      // PSS costs one raw RSA private operation plus microseconds of encoding; a block
      // below the modulus stands in for the encoded message.
      int k = (((RSAPublicKey) pub).getModulus().bitLength() + 7) / 8;
      byte[] block = new BigInteger(1, w.digest()).toByteArray();
      byte[] padded = new byte[k];
      System.arraycopy(block, 0, padded, k - block.length, block.length);
      return () -> LocalHsm.rawRsa(provider, key, padded);
    }
    String algorithm = LocalHsm.signatureAlgorithm(s);
    byte[] input = LocalHsm.signatureInput(s, w.digest());
    return () -> sign(provider, algorithm, key, input);
  }

  private static byte[] sign(Provider p, String alg, PrivateKey key, byte[] input)
      throws GeneralSecurityException {
    Signature sig = p == null ? Signature.getInstance(alg) : Signature.getInstance(alg, p);
    sig.initSign(key);
    sig.update(input);
    return sig.sign();
  }
}
