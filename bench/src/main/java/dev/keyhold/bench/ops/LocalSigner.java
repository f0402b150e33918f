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
import javax.crypto.Cipher;

/**
 * The private-key step done in this JVM through a JCA provider: SunPKCS11 on the same token ({@code
 * pkcs11-direct}) or the JDK's software providers ({@code jce}). It uses the same mechanisms as the
 * service (its one table, through {@link LocalHsm}: raw RSA for PSS and for the pre-master secret),
 * one {@code Signature}/{@code Cipher} per thread, initialised once and reused for every operation
 * as the service's HSM threads do, and no fault check, because a user of the provider would not do
 * one.
 */
public final class LocalSigner {
  /** CKM_RSA_X_509, the transformation of {@link LocalHsm#rawRsa} and of the service. */
  static final String RAW_RSA = "RSA/ECB/NoPadding";

  private LocalSigner() {}

  /**
   * @param provider the provider, or null for the JDK default (software) providers
   */
  public static BlockingOperation operation(
      Workload w, PrivateKey key, PublicKey pub, Provider provider)
      throws GeneralSecurityException {
    if (w.operation() == Workload.Operation.DECRYPT_PREMASTER) {
      byte[] ct = w.premasterCiphertext(pub);
      ThreadLocal<Cipher> cipher = ThreadLocal.withInitial(() -> rawRsaCipher(provider, key));
      return () -> cipher.get().doFinal(ct);
    }
    SignatureScheme s = w.scheme();
    if (LocalHsm.signsWithRawRsa(s)) {
      // PSS costs one raw RSA private operation plus microseconds of encoding; a block
      // below the modulus stands in for the encoded message.
      int k = (((RSAPublicKey) pub).getModulus().bitLength() + 7) / 8;
      byte[] block = new BigInteger(1, w.digest()).toByteArray();
      byte[] padded = new byte[k];
      System.arraycopy(block, 0, padded, k - block.length, block.length);
      ThreadLocal<Cipher> cipher = ThreadLocal.withInitial(() -> rawRsaCipher(provider, key));
      return () -> cipher.get().doFinal(padded);
    }
    String algorithm = LocalHsm.signatureAlgorithm(s);
    byte[] input = LocalHsm.signatureInput(s, w.digest());
    ThreadLocal<Signature> signature =
        ThreadLocal.withInitial(() -> signer(provider, algorithm, key));
    return () -> {
      // sign() resets the Signature to the state after initSign: the next update starts afresh.
      Signature sig = signature.get();
      sig.update(input);
      sig.sign();
    };
  }

  /** A raw RSA (CKM_RSA_X_509) cipher in decrypt mode: doFinal leaves it ready for the next. */
  static Cipher rawRsaCipher(Provider provider, PrivateKey key) {
    try {
      Cipher c =
          provider == null ? Cipher.getInstance(RAW_RSA) : Cipher.getInstance(RAW_RSA, provider);
      c.init(Cipher.DECRYPT_MODE, key);
      return c;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up raw RSA: " + e.getMessage(), e);
    }
  }

  static Signature signer(Provider p, String alg, PrivateKey key) {
    try {
      Signature sig = p == null ? Signature.getInstance(alg) : Signature.getInstance(alg, p);
      sig.initSign(key);
      return sig;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up " + alg + ": " + e.getMessage(), e);
    }
  }
}
