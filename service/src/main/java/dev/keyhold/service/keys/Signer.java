package dev.keyhold.service.keys;

import dev.keyhold.config.HsmConfig.VerifyMode;
import dev.keyhold.proto.SignatureScheme;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import org.bouncycastle.crypto.AsymmetricBlockCipher;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.engines.RSAEngine;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.signers.PSSSigner;

/**
 * Signs digests with HSM keys and checks every signature with the public key before it is returned,
 * so an HSM fault (the RSA-CRT fault attack) never leaves the service; whether ECDSA signatures are
 * checked too is this signer's configuration ({@code hsm.verifySignatures}). The check is done in
 * software, independently of the HSM that made the signature, by {@link SoftwareVerifier}.
 *
 * <p>RSA-PSS: SunPKCS11's {@code RSASSA-PSS} hashes its input, and we only have the digest, so the
 * EMSA-PSS encoding (random salt of hash length, MGF1 with the same hash) is done here by Bouncy
 * Castle's raw PSS signer and the private operation by the HSM's raw RSA (CKM_RSA_X_509). A key
 * that does not allow raw RSA ({@link HsmKey#signsPssInHsm()}) signs PSS itself with
 * CKM_RSA_PKCS_PSS over the digest; its signatures are checked the same way.
 */
public final class Signer {
  private final boolean verifyEcdsa;

  /**
   * @param verify which signatures are checked with the public key before they are returned: all,
   *     or ({@link VerifyMode#RSA}) RSA ones only; RSA ones always are
   */
  public Signer(VerifyMode verify) {
    this.verifyEcdsa = verify == VerifyMode.ALL;
  }

  /** Thrown when the HSM's signature does not verify. */
  public static final class SignatureFaultException extends GeneralSecurityException {
    private static final long serialVersionUID = 1L;

    SignatureFaultException(String message) {
      super(message);
    }
  }

  /** Signs, and runs the configured fault check before returning the signature. */
  public byte[] sign(HsmKey key, SignatureScheme scheme, byte[] digest)
      throws GeneralSecurityException {
    byte[] sig =
        scheme.padding() == SignatureScheme.Padding.PSS && !key.signsPssInHsm()
            ? signPss(RawRsaKey.of(key), scheme, digest)
            : key.signDigest(scheme, digest);
    boolean verify = verifyEcdsa || scheme.padding() != SignatureScheme.Padding.ECDSA;
    if (verify && !verify(key.description(), scheme, digest, sig)) {
      throw new SignatureFaultException(
          "the HSM's "
              + scheme.ianaName()
              + " signature with key '"
              + key.description().name()
              + "' does not verify");
    }
    return sig;
  }

  /** Verifies a signature over a digest with the key's public key, in software. */
  public static boolean verify(
      KeyDescription key, SignatureScheme scheme, byte[] digest, byte[] sig)
      throws GeneralSecurityException {
    switch (scheme.padding()) {
      case PKCS1 -> {
        return SoftwareVerifier.verifyPkcs1((RSAPublicKey) key.publicKey(), scheme, digest, sig);
      }
      case ECDSA -> {
        Boolean ok =
            SoftwareVerifier.verifyEcdsa((ECPublicKey) key.publicKey(), key.curve(), digest, sig);
        if (ok != null) {
          return ok;
        }
        Signature v = Signature.getInstance("NONEwithECDSA");
        v.initVerify(key.publicKey());
        v.update(digest);
        return verifyQuietly(v, sig);
      }
      default -> {
        return verifyPss(key, scheme, digest, sig, new RSAEngine());
      }
    }
  }

  /**
   * Verifies a PSS signature over a digest; {@code publicOp} performs the RSA public operation
   * (Bouncy Castle's engine, or a token's raw RSA with the public key).
   */
  public static boolean verifyPss(
      KeyDescription key,
      SignatureScheme scheme,
      byte[] digest,
      byte[] sig,
      AsymmetricBlockCipher publicOp) {
    RSAPublicKey pub = (RSAPublicKey) key.publicKey();
    PSSSigner v =
        PSSSigner.createRawSigner(
            publicOp,
            digest(scheme),
            digest(scheme),
            scheme.hash().length(),
            PSSSigner.TRAILER_IMPLICIT);
    v.init(false, new RSAKeyParameters(false, pub.getModulus(), pub.getPublicExponent()));
    v.update(digest, 0, digest.length);
    try {
      return v.verifySignature(sig);
    } catch (org.bouncycastle.crypto.DataLengthException e) {
      return false; // not below the modulus, or longer than it: no signature by this key
    }
  }

  private static boolean verifyQuietly(Signature v, byte[] sig) {
    try {
      return v.verify(sig);
    } catch (SignatureException e) {
      return false;
    }
  }

  private static byte[] signPss(RawRsaKey key, SignatureScheme scheme, byte[] digest)
      throws GeneralSecurityException {
    RSAPublicKey pub = (RSAPublicKey) key.description().publicKey();
    PSSSigner signer =
        PSSSigner.createRawSigner(
            new HsmRawRsa(key),
            digest(scheme),
            digest(scheme),
            scheme.hash().length(),
            PSSSigner.TRAILER_IMPLICIT);
    // The engine only needs the modulus; the private exponent stays in the HSM.
    signer.init(
        true,
        new ParametersWithRandom(
            new RSAKeyParameters(true, pub.getModulus(), BigInteger.ONE),
            new java.security.SecureRandom()));
    signer.update(digest, 0, digest.length);
    try {
      return signer.generateSignature();
    } catch (HsmRawRsa.HsmFailure e) {
      throw e.cause;
    } catch (org.bouncycastle.crypto.CryptoException e) {
      throw new GeneralSecurityException("PSS encoding failed: " + e.getMessage(), e);
    }
  }

  private static Digest digest(SignatureScheme scheme) {
    return switch (scheme.hash()) {
      case SHA256 -> new SHA256Digest();
      case SHA384 -> new SHA384Digest();
      case SHA512 -> new SHA512Digest();
    };
  }

  /** Bouncy Castle block cipher whose private operation is the HSM's raw RSA. */
  private static final class HsmRawRsa implements AsymmetricBlockCipher {
    private final RawRsaKey key;
    private final int k;

    HsmRawRsa(RawRsaKey key) {
      this.key = key;
      this.k = key.description().modulusBytes();
    }

    static final class HsmFailure extends RuntimeException {
      private static final long serialVersionUID = 1L;
      final transient GeneralSecurityException cause;

      HsmFailure(GeneralSecurityException cause) {
        super(cause.getMessage(), null, false, false);
        this.cause = cause;
      }
    }

    @Override
    public void init(boolean forEncryption, CipherParameters params) {}

    @Override
    public int getInputBlockSize() {
      return k;
    }

    @Override
    public int getOutputBlockSize() {
      return k;
    }

    @Override
    public byte[] processBlock(byte[] in, int off, int len) {
      byte[] block = new byte[k];
      System.arraycopy(in, off, block, k - len, len);
      try {
        return key.rawRsa(block);
      } catch (GeneralSecurityException e) {
        throw new HsmFailure(e);
      }
    }
  }
}
