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
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
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
import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.PKCS11Constants;
import sun.security.pkcs11.wrapper.PKCS11Exception;

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
        label(spec.name(), pair.getPublic());
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

  /** Creates one key; unlike {@link #ensure}, a key of that name already there is an error. */
  public void create(KeySpec spec) throws GeneralSecurityException {
    if (token.keyStore().containsAlias(spec.name())) {
      throw new ConfigException(
          "a key labelled '"
              + spec.name()
              + "' already exists on "
              + token.config().describeToken()
              + "; pick another label or delete it first");
    }
    ensure(List.of(spec));
  }

  /**
   * Stores a key that was created outside the HSM, with its chain, as a token object made sensitive
   * and non-extractable by the profile's import template. The chain's leaf must be the key's
   * certificate (checked by a signature, so no public key derivation is needed).
   */
  public void importKey(String name, PrivateKey key, List<X509Certificate> chain)
      throws GeneralSecurityException {
    KeyStore ks = token.keyStore();
    if (ks.containsAlias(name)) {
      throw new ConfigException(
          "a key labelled '" + name + "' already exists on " + token.config().describeToken());
    }
    checkChain(chain);
    String alg = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    java.security.Signature s = java.security.Signature.getInstance(alg);
    s.initSign(key);
    byte[] probe = "keyhold import check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    s.update(probe);
    byte[] sig = s.sign();
    java.security.Signature v = java.security.Signature.getInstance(alg);
    v.initVerify(chain.get(0).getPublicKey());
    v.update(probe);
    if (!v.verify(sig)) {
      throw new ConfigException("the certificate's public key is not the imported private key");
    }
    ks.setKeyEntry(name, key, null, chain.toArray(new Certificate[0]));
    label(name, null);
    log.info("imported key '{}' into the HSM (it existed outside an HSM before)", name);
  }

  /** Deletes a key and its certificate. */
  public void delete(String name) throws GeneralSecurityException {
    KeyStore ks = token.keyStore();
    if (!ks.containsAlias(name)) {
      throw new ConfigException("no key named '" + name + "' on " + token.config().describeToken());
    }
    ks.deleteEntry(name);
    log.info("deleted key '{}'", name);
  }

  /**
   * Gives the key objects the certificate's name as CKA_LABEL (SunPKCS11 labels only the
   * certificate), so standard PKCS#11 tools find keys by name. SunPKCS11 leaves a generated public
   * key without label or CKA_ID: it is found by its value ({@code pub}: CKA_MODULUS or
   * CKA_EC_POINT) and given both, so it pairs with its private key and certificate.
   */
  private void label(String name, java.security.PublicKey pub) {
    try {
      TokenObjects objects = token.objects();
      long[] priv = objects.objectsOf(name, PKCS11Constants.CKO_PRIVATE_KEY);
      for (long h : priv) {
        objects.setAttributes(h, new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL, name));
      }
      java.util.Set<Long> pubs = new java.util.LinkedHashSet<>();
      for (long h : objects.objectsOf(name, PKCS11Constants.CKO_PUBLIC_KEY)) {
        pubs.add(h);
      }
      if (pub != null) {
        CK_ATTRIBUTE value =
            pub instanceof java.security.interfaces.RSAPublicKey rsa
                ? new CK_ATTRIBUTE(PKCS11Constants.CKA_MODULUS, unsigned(rsa.getModulus()))
                : new CK_ATTRIBUTE(
                    PKCS11Constants.CKA_EC_POINT,
                    new org.bouncycastle.asn1.DEROctetString(
                            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
                                    pub.getEncoded())
                                .getPublicKeyData()
                                .getBytes())
                        .getEncoded());
        for (long h :
            objects.findObjects(
                new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, PKCS11Constants.CKO_PUBLIC_KEY),
                value)) {
          pubs.add(h);
        }
      }
      byte[] id =
          priv.length == 1 ? (byte[]) objects.attribute(priv[0], PKCS11Constants.CKA_ID) : null;
      for (long h : pubs) {
        objects.setAttributes(
            h,
            id == null
                ? new CK_ATTRIBUTE[] {new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL, name)}
                : new CK_ATTRIBUTE[] {
                  new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL, name),
                  new CK_ATTRIBUTE(PKCS11Constants.CKA_ID, id)
                });
      }
    } catch (PKCS11Exception | IllegalAccessError | java.io.IOException e) {
      log.warn("key '{}': cannot label its key objects: {}", name, e.getMessage());
    }
  }

  private static byte[] unsigned(BigInteger n) {
    byte[] b = n.toByteArray();
    return b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  /** A PEM CSR for an existing key, signed inside the HSM. */
  public String csr(String name, String subject)
      throws GeneralSecurityException, IOException, OperatorCreationException {
    return csr(name, subject, List.of());
  }

  /**
   * A PEM CSR for an existing key with subject alternative names ({@code DNS:}, {@code IP:}, {@code
   * URI:}, {@code EMAIL:}; a bare name is DNS), signed inside the HSM.
   */
  public String csr(String name, String subject, List<String> sans)
      throws GeneralSecurityException, IOException, OperatorCreationException {
    KeyStore ks = token.keyStore();
    PrivateKey priv = (PrivateKey) ks.getKey(name, null);
    if (priv == null) {
      throw new ConfigException("no key named '" + name + "' on " + token.config().describeToken());
    }
    X500Name dn;
    try {
      dn = new X500Name(subject);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          "subject '" + subject + "' is not a distinguished name such as CN=www.example.com,O=Org");
    }
    X509Certificate cert = (X509Certificate) ks.getCertificate(name);
    JcaPKCS10CertificationRequestBuilder b =
        new JcaPKCS10CertificationRequestBuilder(dn, cert.getPublicKey());
    if (!sans.isEmpty()) {
      ExtensionsGenerator ext = new ExtensionsGenerator();
      ext.addExtension(Extension.subjectAlternativeName, false, generalNames(sans));
      b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
    }
    PKCS10CertificationRequest req = b.build(signer(priv, cert.getPublicKey().getAlgorithm()));
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
    checkChain(chain);
    if (!ks.getCertificate(name).getPublicKey().equals(chain.get(0).getPublicKey())) {
      throw new ConfigException("the certificate's public key is not key '" + name + "'");
    }
    ks.setKeyEntry(name, priv, null, chain.toArray(new Certificate[0]));
  }

  /** A chain must be in order: each certificate signed by the next one's key. */
  static void checkChain(List<X509Certificate> chain) {
    if (chain.isEmpty()) {
      throw new ConfigException("the chain holds no certificate");
    }
    for (int i = 0; i + 1 < chain.size(); i++) {
      X509Certificate c = chain.get(i);
      X509Certificate issuer = chain.get(i + 1);
      try {
        c.verify(issuer.getPublicKey());
      } catch (GeneralSecurityException e) {
        throw new ConfigException(
            "certificate "
                + (i + 2)
                + " of the chain ("
                + issuer.getSubjectX500Principal()
                + ") did not sign certificate "
                + (i + 1)
                + " ("
                + c.getSubjectX500Principal()
                + "); give the chain leaf first, each certificate followed by its issuer");
      }
    }
  }

  private static GeneralNames generalNames(List<String> sans) {
    List<GeneralName> names = new ArrayList<>();
    for (String san : sans) {
      int colon = san.indexOf(':');
      String kind = colon < 0 ? "DNS" : san.substring(0, colon).toUpperCase(java.util.Locale.ROOT);
      String value = colon < 0 ? san : san.substring(colon + 1);
      int tag =
          switch (kind) {
            case "DNS" -> GeneralName.dNSName;
            case "IP" -> GeneralName.iPAddress;
            case "URI" -> GeneralName.uniformResourceIdentifier;
            case "EMAIL" -> GeneralName.rfc822Name;
            default ->
                throw new ConfigException(
                    "SAN '" + san + "': use DNS:name, IP:address, URI:uri or EMAIL:address");
          };
      if (value.isBlank()) {
        throw new ConfigException("SAN '" + san + "' is empty");
      }
      try {
        names.add(new GeneralName(tag, value));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("SAN '" + san + "' is not a valid " + kind + " name");
      }
    }
    return new GeneralNames(names.toArray(new GeneralName[0]));
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
