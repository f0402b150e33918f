package dev.keyhold.service.setup;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The demo PKI on disk: {@code ca.pem}/{@code ca.key}, {@code server.pem}/{@code server.key}
 * (loopback names) and one {@code NAME.pem}/{@code NAME.key} per client. Idempotent: what exists is
 * kept, so re-running the set-up never invalidates issued certificates.
 */
public final class PkiDirectory {
  private final Path dir;

  public PkiDirectory(Path dir) {
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }

  public Path caCert() {
    return dir.resolve("ca.pem");
  }

  public Path cert(String name) {
    return dir.resolve(name + ".pem");
  }

  public Path key(String name) {
    return dir.resolve(name + ".key");
  }

  /** Creates the CA and server certificate if missing, and a certificate for each client name. */
  public void init(List<String> clients) throws IOException, GeneralSecurityException {
    Files.createDirectories(dir);
    LocalPki ca = loadOrCreateCa();
    if (!Files.exists(cert("server"))) {
      LocalPki.Issued s =
          ca.issueServer(
              "keyhold-service", List.of("localhost", "keyhold"), List.of("127.0.0.1", "::1"));
      Files.writeString(cert("server"), LocalPki.pem(s.certificate()));
      LocalPki.writePrivate(key("server"), LocalPki.pem(s.privateKey()));
    }
    for (String client : clients) {
      if (!Files.exists(cert(client))) {
        LocalPki.Issued c = ca.issueClient(client);
        Files.writeString(cert(client), LocalPki.pem(c.certificate()));
        LocalPki.writePrivate(key(client), LocalPki.pem(c.privateKey()));
      }
    }
  }

  /** The CA, loaded from disk or created. */
  public LocalPki loadOrCreateCa() throws IOException, GeneralSecurityException {
    if (Files.exists(caCert()) && Files.exists(key("ca"))) {
      return LocalPki.load(readCertificate(caCert()), readPrivateKey(key("ca")));
    }
    Files.createDirectories(dir);
    LocalPki ca = LocalPki.create("Keyhold local CA");
    Files.writeString(caCert(), LocalPki.pem(ca.caCertificate()));
    LocalPki.writePrivate(key("ca"), LocalPki.pem(ca.caPrivateKey()));
    return ca;
  }

  public static X509Certificate readCertificate(Path pem)
      throws IOException, GeneralSecurityException {
    try (Reader r = Files.newBufferedReader(pem);
        PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (!(o instanceof X509CertificateHolder h)) {
        throw new GeneralSecurityException(pem + " holds no PEM certificate");
      }
      return new JcaX509CertificateConverter().getCertificate(h);
    }
  }

  public static List<X509Certificate> readCertificates(Path pem)
      throws IOException, GeneralSecurityException {
    java.util.ArrayList<X509Certificate> out = new java.util.ArrayList<>();
    try (Reader r = Files.newBufferedReader(pem);
        PEMParser p = new PEMParser(r)) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof X509CertificateHolder h) {
          out.add(new JcaX509CertificateConverter().getCertificate(h));
        }
      }
    }
    if (out.isEmpty()) {
      throw new GeneralSecurityException(pem + " holds no PEM certificate");
    }
    return out;
  }

  public static PrivateKey readPrivateKey(Path pem) throws IOException, GeneralSecurityException {
    try (Reader r = Files.newBufferedReader(pem);
        PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (o instanceof PrivateKeyInfo info) {
        return new JcaPEMKeyConverter().getPrivateKey(info);
      }
      if (o instanceof org.bouncycastle.openssl.PEMKeyPair pair) {
        return new JcaPEMKeyConverter().getKeyPair(pair).getPrivate();
      }
      throw new GeneralSecurityException(pem + " holds no PEM private key");
    }
  }
}
