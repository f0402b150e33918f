package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates keys inside the HSM: token objects, {@code CKA_SENSITIVE}, not {@code CKA_EXTRACTABLE}
 * (the SunPKCS11 profile's generate template), each with a self-signed placeholder certificate
 * under the same {@code CKA_ID}, because SunPKCS11 only exposes keys that have one. Certificates
 * and CSRs are signed inside the HSM. Idempotent: a key whose name exists is left alone.
 */
public final class KeyProvisioner {
  private static final Logger log = LoggerFactory.getLogger(KeyProvisioner.class);

  /** A key to create: a name (its label) and an algorithm spec, "rsa:2048" or "ec:secp256r1". */
  public record KeySpec(String name, String algorithm) {
    public static KeySpec parse(String text) {
      int eq = text.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("key spec '" + text + "' is not NAME=rsa:BITS or NAME=ec:CURVE");
      }
      KeySpec spec = new KeySpec(text.substring(0, eq), text.substring(eq + 1));
      spec.check();
      return spec;
    }

    void check() {
      if (!algorithm.matches("rsa:(1024|2048|3072|4096)|ec:(secp256r1|secp384r1|secp521r1)")) {
        throw new ConfigException(
            "key '"
                + name
                + "': algorithm '"
                + algorithm
                + "' is not rsa:2048|3072|4096 or ec:secp256r1|secp384r1|secp521r1");
      }
    }
  }

  /** The demo and test key set. */
  public static final List<KeySpec> DEFAULT_KEYS =
      List.of(
          new KeySpec("rsa2048", "rsa:2048"),
          new KeySpec("rsa3072", "rsa:3072"),
          new KeySpec("ec-p256", "ec:secp256r1"),
          new KeySpec("ec-p384", "ec:secp384r1"));

  private final Pkcs11Token token;

  public KeyProvisioner(Pkcs11Token token) {
    this.token = token;
  }

  /** Creates the keys that do not exist yet; returns the names it created. */
  public List<String> ensure(List<KeySpec> specs) {
    List<String> created = new ArrayList<>();
    try {
      KeyStore ks = token.keyStore();
      for (KeySpec spec : specs) {
        spec.check();
        if (ks.isKeyEntry(spec.name())) {
          log.info("key '{}' exists; left as it is", spec.name());
          continue;
        }
        KeyPair pair = generate(spec);
        X509Certificate cert = selfSigned(spec.name(), pair);
        ks.setKeyEntry(spec.name(), pair.getPrivate(), null, new Certificate[] {cert});
        created.add(spec.name());
        log.info("created key '{}' ({}) inside the HSM", spec.name(), spec.algorithm());
      }
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new ConfigException(
          "key generation on "
              + token.config().describeToken()
              + " failed: "
              + HsmFailures.rootMessage(e),
          e);
    }
    return created;
  }

  /** A PEM CSR for an existing key, signed inside the HSM. */
  public String csr(String name, String subject)
      throws GeneralSecurityException, IOException, OperatorCreationException {
    KeyStore ks = token.keyStore();
    PrivateKey priv = (PrivateKey) ks.getKey(name, null);
    if (priv == null) {
      throw new ConfigException("no key named '" + name + "' on " + token.config().describeToken());
    }
    X509Certificate cert = (X509Certificate) ks.getCertificate(name);
    PKCS10CertificationRequest req =
        new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), cert.getPublicKey())
            .build(signer(priv, cert.getPublicKey().getAlgorithm()));
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(req);
    }
    return out.toString();
  }

  /** Replaces a key's placeholder certificate with its real chain (leaf first). */
  public void importChain(String name, List<X509Certificate> chain)
      throws GeneralSecurityException {
    KeyStore ks = token.keyStore();
    PrivateKey priv = (PrivateKey) ks.getKey(name, null);
    if (priv == null) {
      throw new ConfigException("no key named '" + name + "' on " + token.config().describeToken());
    }
    if (!ks.getCertificate(name).getPublicKey().equals(chain.get(0).getPublicKey())) {
      throw new ConfigException("the certificate's public key is not key '" + name + "'");
    }
    ks.setKeyEntry(name, priv, null, chain.toArray(new Certificate[0]));
  }

  private KeyPair generate(KeySpec spec) throws GeneralSecurityException {
    String[] parts = spec.algorithm().split(":");
    if (parts[0].equals("rsa")) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", token.provider());
      g.initialize(Integer.parseInt(parts[1]));
      return g.generateKeyPair();
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", token.provider());
    g.initialize(new ECGenParameterSpec(parts[1]));
    return g.generateKeyPair();
  }

  private X509Certificate selfSigned(String name, KeyPair pair)
      throws OperatorCreationException, GeneralSecurityException {
    X500Name dn = new X500Name("CN=" + name + ", O=Keyhold placeholder");
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            dn,
            new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(3650))),
            dn,
            pair.getPublic());
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(signer(pair.getPrivate(), pair.getPublic().getAlgorithm())));
  }

  private ContentSigner signer(PrivateKey priv, String keyAlgorithm)
      throws OperatorCreationException {
    String alg = keyAlgorithm.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaContentSignerBuilder(alg).setProvider(token.provider()).build(priv);
  }
}
