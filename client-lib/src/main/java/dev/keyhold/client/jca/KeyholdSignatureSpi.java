package dev.keyhold.client.jca;

import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.SignatureScheme.Hash;
import dev.keyhold.proto.SignatureScheme.Padding;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.InvalidParameterSpecException;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * Signature SPI for Keyhold key handles: hashes locally with the scheme's hash and asks the service
 * to sign the digest. One instance per JCA algorithm ("SHA256withRSA", "RSASSA-PSS",
 * "SHA384withECDSA", ...); the TLS scheme follows from the algorithm, the PSS parameters and, for
 * ECDSA, the key's curve.
 *
 * <p>Why init can refuse: JSSE probes schemes by calling {@code initSign} and skips the ones that
 * throw, so a scheme the key cannot serve (wrong curve for the hash, RSA modulus too small for
 * PSS-SHA512) fails there rather than at {@code sign}.
 */
final class KeyholdSignatureSpi extends SignatureSpi {
  private final Padding padding;
  private final Hash fixedHash; // null for RSASSA-PSS, where the parameters name the hash

  private KeyholdPrivateKey key;
  private SignatureScheme scheme;
  private MessageDigest digest;

  KeyholdSignatureSpi(Padding padding, Hash fixedHash) {
    this.padding = padding;
    this.fixedHash = fixedHash;
  }

  @Override
  protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
    bind(privateKey);
    if (padding == Padding.PSS) {
      // Parameters may follow (setParameter after initSign); keep any that were already set.
      if (scheme != null && !key.supports(scheme)) {
        throw new InvalidKeyException(
            "key " + key.keyName() + " cannot sign with " + scheme.ianaName());
      }
      resetDigest();
      return;
    }
    scheme = schemeFor(key, fixedHash);
    resetDigest();
  }

  @Override
  protected void engineInitSign(PrivateKey privateKey, SecureRandom random)
      throws InvalidKeyException {
    engineInitSign(privateKey);
  }

  private void bind(PrivateKey privateKey) throws InvalidKeyException {
    boolean ok =
        switch (padding) {
          case PKCS1, PSS -> privateKey instanceof KeyholdRsaPrivateKey;
          case ECDSA -> privateKey instanceof KeyholdEcPrivateKey;
        };
    if (!ok) {
      throw new InvalidKeyException(
          "Keyhold signs only with Keyhold "
              + (padding == Padding.ECDSA ? "EC" : "RSA")
              + " key handles, not "
              + (privateKey == null ? "null" : privateKey.getClass().getName()));
    }
    this.key = (KeyholdPrivateKey) privateKey;
  }

  private static SignatureScheme schemeFor(KeyholdPrivateKey key, Hash hash)
      throws InvalidKeyException {
    for (SignatureScheme s : SignatureScheme.values()) {
      if (s.hash() == hash
          && s.keyType() == key.keyType()
          && s.padding() != Padding.PSS
          && key.supports(s)) {
        return s;
      }
    }
    throw new InvalidKeyException(
        "key "
            + key.keyName()
            + " ("
            + key.getAlgorithm()
            + " "
            + key.keyBits()
            + (key.curve().isEmpty() ? "" : " " + key.curve())
            + ") cannot sign with "
            + hash.shortName());
  }

  private void resetDigest() throws InvalidKeyException {
    if (scheme == null) {
      digest = null;
      return;
    }
    try {
      digest = MessageDigest.getInstance(scheme.hash().jcaName());
    } catch (NoSuchAlgorithmException e) {
      throw new InvalidKeyException("no " + scheme.hash().jcaName() + " in this JDK", e);
    }
  }

  @Override
  protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
    throw new InvalidKeyException("Keyhold only signs; verify with the JDK's providers");
  }

  @Override
  protected void engineSetParameter(AlgorithmParameterSpec params)
      throws InvalidAlgorithmParameterException {
    if (padding != Padding.PSS) {
      throw new InvalidAlgorithmParameterException(padding + " signatures take no parameters");
    }
    if (key == null && !calledFromInitSign()) {
      // A bare setParameter before any init: the JDK's delayed provider selection would bind
      // this Signature to Keyhold for good, and a later initVerify/initSign with a JDK key
      // would fail (e.g. JOSE libraries set PSS parameters first). Refusing passes the call on
      // to the next provider. JSSE's path, initSign(key, params), is recognised below.
      throw new InvalidAlgorithmParameterException(
          "Keyhold: PSS parameters are accepted only with a Keyhold key (initSign first)");
    }
    if (!(params instanceof PSSParameterSpec pss)) {
      throw new InvalidAlgorithmParameterException("RSASSA-PSS needs a PSSParameterSpec");
    }
    SignatureScheme s = pssScheme(pss);
    if (key != null && !key.supports(s)) {
      throw new InvalidAlgorithmParameterException(
          "key " + key.keyName() + " cannot sign with " + s.ianaName());
    }
    scheme = s;
    try {
      resetDigest();
    } catch (InvalidKeyException e) {
      throw new InvalidAlgorithmParameterException(e.getMessage(), e);
    }
  }

  /**
   * Whether the caller is {@code SignatureSpi.engineInitSign(key, params, random)}: that
   * package-private JDK method sets the parameters <em>before</em> it passes the key, and it is
   * only reached once delayed provider selection has checked the key against our key class.
   */
  private static boolean calledFromInitSign() {
    return StackWalker.getInstance()
        .walk(
            frames ->
                frames
                    .skip(1)
                    .limit(3)
                    .anyMatch(
                        f ->
                            f.getClassName().equals("java.security.SignatureSpi")
                                && f.getMethodName().equals("engineInitSign")));
  }

  /** The TLS scheme for PSS parameters; only MGF1 with the same hash and salt = hash length. */
  static SignatureScheme pssScheme(PSSParameterSpec pss) throws InvalidAlgorithmParameterException {
    for (SignatureScheme s : SignatureScheme.values()) {
      if (s.padding() != Padding.PSS || !sameHash(s.hash(), pss.getDigestAlgorithm())) {
        continue;
      }
      boolean mgfOk =
          "MGF1".equalsIgnoreCase(pss.getMGFAlgorithm())
              && pss.getMGFParameters() instanceof MGF1ParameterSpec mgf
              && sameHash(s.hash(), mgf.getDigestAlgorithm());
      if (mgfOk
          && pss.getSaltLength() == s.hash().length()
          && pss.getTrailerField() == PSSParameterSpec.TRAILER_FIELD_BC) {
        return s;
      }
    }
    throw new InvalidAlgorithmParameterException(
        "Keyhold signs RSASSA-PSS only with SHA-256/384/512, MGF1 with the same hash and salt"
            + " length = hash length (TLS rsa_pss_rsae_*)");
  }

  private static boolean sameHash(Hash h, String name) {
    return h.jcaName().equalsIgnoreCase(name) || h.shortName().equalsIgnoreCase(name);
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    if (padding != Padding.PSS || scheme == null) {
      return null;
    }
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("RSASSA-PSS");
      p.init(scheme.pssParameters());
      return p;
    } catch (NoSuchAlgorithmException | InvalidParameterSpecException e) {
      throw new IllegalStateException("the JDK cannot encode PSS parameters", e);
    }
  }

  @Override
  protected void engineUpdate(byte b) throws SignatureException {
    ready().update(b);
  }

  @Override
  protected void engineUpdate(byte[] b, int off, int len) throws SignatureException {
    ready().update(b, off, len);
  }

  private MessageDigest ready() throws SignatureException {
    if (key == null) {
      throw new SignatureException("not initialized for signing");
    }
    if (digest == null) {
      throw new SignatureException("RSASSA-PSS needs PSS parameters (setParameter) before data");
    }
    return digest;
  }

  @Override
  protected byte[] engineSign() throws SignatureException {
    byte[] hash = ready().digest();
    try {
      return key.client().sign(key.keyName(), scheme, hash);
    } catch (KeyholdException e) {
      // SignatureException is what JSSE turns into a handshake_failure alert; the cause keeps
      // the status and reason for the server's log.
      throw new SignatureException(
          "Keyhold " + scheme.ianaName() + " signature with key '" + key.keyName() + "' failed", e);
    }
  }

  @Override
  protected boolean engineVerify(byte[] sigBytes) throws SignatureException {
    throw new SignatureException("Keyhold only signs; verify with the JDK's providers");
  }

  @Override
  @Deprecated
  protected void engineSetParameter(String param, Object value) {
    throw new InvalidParameterException("not supported");
  }

  @Override
  @Deprecated
  protected Object engineGetParameter(String param) {
    throw new InvalidParameterException("not supported");
  }
}
