package dev.keyhold.service.setup;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A local certificate authority for the service's mTLS: a CA, a server certificate for loopback
 * names, and client certificates. For demos and tests; production deployments bring their own PKI.
 * Private keys are written as PKCS#8 PEM, readable by the owner only. Certificates are generated
 * when needed, so nothing committed expires.
 */
public final class LocalPki {
  private final X509Certificate caCert;
  private final PrivateKey caKey;

  private LocalPki(X509Certificate caCert, PrivateKey caKey) {
    this.caCert = caCert;
    this.caKey = caKey;
  }

  /** An issued certificate with its private key. */
  public record Issued(X509Certificate certificate, PrivateKey privateKey) {}

  public static LocalPki create(String caName) throws GeneralSecurityException {
    KeyPair kp = ecKey();
    X500Name dn = new X500Name("CN=" + caName);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(dn, serial(), notBefore(), notAfter(), dn, kp.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(kp.getPublic()));
      X509Certificate cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
      return new LocalPki(cert, kp.getPrivate());
    } catch (IOException | OperatorCreationException e) {
      throw new GeneralSecurityException("cannot create the CA: " + e.getMessage(), e);
    }
  }

  /** A CA from its certificate and private key. */
  public static LocalPki load(X509Certificate caCert, PrivateKey caKey) {
    return new LocalPki(caCert, caKey);
  }

  PrivateKey caPrivateKey() {
    return caKey;
  }

  public X509Certificate caCertificate() {
    return caCert;
  }

  /** A TLS server certificate for the given DNS names and IP addresses. */
  public Issued issueServer(String cn, List<String> dnsNames, List<String> ips)
      throws GeneralSecurityException {
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
    ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
    return issue(cn, names, KeyPurposeId.id_kp_serverAuth, ecKey());
  }

  /** A TLS client certificate whose identity (CN and a DNS SAN) is {@code name}. */
  public Issued issueClient(String name) throws GeneralSecurityException {
    return issue(
        name,
        List.of(new GeneralName(GeneralName.dNSName, name)),
        KeyPurposeId.id_kp_clientAuth,
        ecKey());
  }

  /**
   * A TLS client certificate with subject {@code CN=cn} and exactly these DNS and URI SANs (none at
   * all when both lists are empty): certificates whose CN and SANs disagree, for identity tests.
   */
  public Issued issueClient(String cn, List<String> dnsNames, List<String> uris)
      throws GeneralSecurityException {
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
    uris.forEach(u -> names.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
    return issue(cn, names, KeyPurposeId.id_kp_clientAuth, ecKey());
  }

  /** A certificate for an existing public key, e.g. one whose private key lives in an HSM. */
  public X509Certificate issueFor(
      String cn, java.security.PublicKey publicKey, List<String> dnsNames, boolean client)
      throws GeneralSecurityException {
    return issueFor(cn, publicKey, dnsNames, List.of(), client);
  }

  /**
   * As {@link #issueFor(String, java.security.PublicKey, List, boolean)}, with IP address SANs too.
   */
  public X509Certificate issueFor(
      String cn,
      java.security.PublicKey publicKey,
      List<String> dnsNames,
      List<String> ips,
      boolean client)
      throws GeneralSecurityException {
    return issueFor(cn, publicKey, dnsNames, ips, client ? Usage.CLIENT : Usage.SERVER);
  }

  /** What a certificate may authenticate (its extended key usage). */
  public enum Usage {
    /** TLS servers (serverAuth). */
    SERVER,
    /** TLS clients (clientAuth): an HSM-held client key for mutual TLS. */
    CLIENT,
    /** Both. */
    BOTH;

    KeyPurposeId[] purposes() {
      return switch (this) {
        case SERVER -> new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth};
        case CLIENT -> new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth};
        case BOTH ->
            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth};
      };
    }
  }

  /** As {@link #issueFor(String, java.security.PublicKey, List, List, boolean)}, for any usage. */
  public X509Certificate issueFor(
      String cn,
      java.security.PublicKey publicKey,
      List<String> dnsNames,
      List<String> ips,
      Usage usage)
      throws GeneralSecurityException {
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
    ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
    return build(cn, names, publicKey, usage.purposes());
  }

  private Issued issue(String cn, List<GeneralName> names, KeyPurposeId purpose, KeyPair kp)
      throws GeneralSecurityException {
    return new Issued(build(cn, names, kp.getPublic(), purpose), kp.getPrivate());
  }

  private X509Certificate build(
      String cn, List<GeneralName> names, java.security.PublicKey pub, KeyPurposeId... purposes)
      throws GeneralSecurityException {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      int usage =
          pub.getAlgorithm().equals("RSA")
              ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
              : KeyUsage.digitalSignature;
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  caCert, serial(), notBefore(), notAfter(), new X500Name("CN=" + cn), pub)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
              .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes))
              .addExtension(
                  Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert))
              .addExtension(
                  Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pub));
      if (!names.isEmpty()) {
        b.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(names.toArray(new GeneralName[0])));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    } catch (IOException | OperatorCreationException e) {
      throw new GeneralSecurityException(
          "cannot issue a certificate for " + cn + ": " + e.getMessage(), e);
    }
  }

  /** PEM text of certificates and/or keys. */
  public static String pem(Object... objects) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      for (Object o : objects) {
        w.writeObject(
            o instanceof PrivateKey k
                ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null)
                : o);
      }
    }
    return sw.toString();
  }

  /** Writes a file readable by its owner only (for private keys). */
  public static void writePrivate(Path file, String content) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.deleteIfExists(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (Writer w = Files.newBufferedWriter(file)) {
      w.write(content);
    }
  }

  private static KeyPair ecKey() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(63, new SecureRandom()).add(BigInteger.ONE);
  }

  private static Date notBefore() {
    return Date.from(Instant.now().minus(Duration.ofHours(1)));
  }

  private static Date notAfter() {
    return Date.from(Instant.now().plus(Duration.ofDays(825)));
  }
}
