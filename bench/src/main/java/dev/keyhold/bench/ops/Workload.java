package dev.keyhold.bench.ops;

import dev.keyhold.proto.SignatureScheme;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.util.Locale;
import javax.crypto.Cipher;

/**
 * What every mode of an {@code ops} run does once per operation: sign one digest with a scheme, or
 * decrypt one RSA-encrypted pre-master secret. The inputs are made once, so the modes differ only
 * in who performs the private-key step.
 *
 * @param operation sign or decrypt-premaster
 * @param scheme the signature scheme (sign), or null
 * @param digest the digest to sign, of the scheme's hash length
 * @param clientVersion the ClientHello version bound into the pre-master secret (decrypt)
 */
public record Workload(
    Operation operation, SignatureScheme scheme, byte[] digest, int clientVersion) {

  /**
   * The two operations Keyhold serves, and {@code get-key}: a call that never reaches the HSM (the
   * service answers it from its key table), so its latency and CPU are those of the RPC itself
   * (mTLS, HTTP/2, authorization, audit) – the floor under every Sign and DecryptPremaster.
   */
  public enum Operation {
    SIGN("sign"),
    DECRYPT_PREMASTER("decrypt-premaster"),
    GET_KEY("get-key");

    private final String cliName;

    Operation(String cliName) {
      this.cliName = cliName;
    }

    public String cliName() {
      return cliName;
    }

    /** Parses "sign" or "decrypt-premaster" (also with '_'). */
    public static Operation parse(String s) {
      String n = s.toLowerCase(Locale.ROOT).replace('_', '-');
      for (Operation o : values()) {
        if (o.cliName.equals(n)) {
          return o;
        }
      }
      throw new IllegalArgumentException(
          "operation '" + s + "' is not sign, decrypt-premaster or get-key");
    }
  }

  public static Workload sign(SignatureScheme scheme) throws GeneralSecurityException {
    byte[] digest =
        MessageDigest.getInstance(scheme.hash().jcaName())
            .digest("keyhold-bench".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    return new Workload(Operation.SIGN, scheme, digest, 0);
  }

  /** GetKey on the run's key: the RPC without an HSM operation. */
  public static Workload getKey() {
    return new Workload(Operation.GET_KEY, null, null, 0);
  }

  public static Workload decryptPremaster() {
    return new Workload(Operation.DECRYPT_PREMASTER, null, null, 0x0303);
  }

  /** A genuine TLS 1.2 pre-master secret encrypted to {@code pub}, as a client would send it. */
  public byte[] premasterCiphertext(PublicKey pub) throws GeneralSecurityException {
    if (!(pub instanceof RSAPublicKey)) {
      throw new GeneralSecurityException("decrypt-premaster needs an RSA key");
    }
    byte[] pm = new byte[48];
    new SecureRandom().nextBytes(pm);
    pm[0] = (byte) (clientVersion >> 8);
    pm[1] = (byte) clientVersion;
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.ENCRYPT_MODE, pub);
    return c.doFinal(pm);
  }

  /** "sign rsa_pkcs1_sha256" or "decrypt-premaster". */
  public String describe() {
    return operation == Operation.SIGN ? "sign " + scheme.ianaName() : operation.cliName();
  }
}
