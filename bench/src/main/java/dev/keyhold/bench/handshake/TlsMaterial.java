package dev.keyhold.bench.handshake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Key material for the handshake servers that do not use Keyhold: a fresh software key of the same
 * type and size as the Keyhold key, with a self-signed certificate, written as a PKCS#12 file
 * (JSSE) and as PEM files (Netty/BoringSSL), so those servers load their key from a local file as a
 * user's would. Also the client's trust-everything manager and a key manager pinned to one alias.
 */
public final class TlsMaterial {
  private TlsMaterial() {}

  /** A key file pair on disk. */
  public record LocalFiles(
      Path pkcs12,
      char[] pkcs12Password,
      Path certPem,
      Path keyPem,
      PrivateKey key,
      X509Certificate cert) {}

  /**
   * Generates an RSA key of {@code bits} or an EC key on {@code curve}, and writes it under {@code
   * dir}.
   */
  public static LocalFiles generate(Path dir, boolean rsa, int bits, String curve)
      throws GeneralSecurityException, IOException {
    KeyPair kp;
    String sigAlg;
    if (rsa) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(bits);
      kp = g.generateKeyPair();
      sigAlg = "SHA256withRSA";
    } else {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      kp = g.generateKeyPair();
      sigAlg = "SHA256withECDSA";
    }
    X500Name name = new X500Name("CN=localhost");
    Instant now = Instant.now();
    X509Certificate cert;
    try {
      cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  new JcaX509v3CertificateBuilder(
                          name,
                          new BigInteger(64, new SecureRandom()),
                          Date.from(now.minus(Duration.ofHours(1))),
                          Date.from(now.plus(Duration.ofDays(2))),
                          name,
                          kp.getPublic())
                      .build(new JcaContentSignerBuilder(sigAlg).build(kp.getPrivate())));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign the bench certificate: " + e.getMessage(), e);
    }
    Files.createDirectories(dir);
    char[] password =
        "bench".toCharArray(); // a throwaway key for a local benchmark server, not a secret
    KeyStore p12 = KeyStore.getInstance("PKCS12");
    p12.load(null, null);
    p12.setKeyEntry("server", kp.getPrivate(), password, new X509Certificate[] {cert});
    Path p12File = dir.resolve("bench-server.p12");
    try (OutputStream out = Files.newOutputStream(p12File)) {
      p12.store(out, password);
    }
    Path certPem = dir.resolve("bench-server.pem");
    Path keyPem = dir.resolve("bench-server.key");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    Files.writeString(keyPem, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
    return new LocalFiles(p12File, password, certPem, keyPem, kp.getPrivate(), cert);
  }

  /** A key manager over the PKCS#12 file, as a JSSE server configured with a key file has. */
  public static KeyManager pkcs12KeyManager(LocalFiles files)
      throws GeneralSecurityException, IOException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(files.pkcs12())) {
      ks.load(in, files.pkcs12Password());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
    kmf.init(ks, files.pkcs12Password());
    return kmf.getKeyManagers()[0];
  }

  /**
   * Serves exactly one alias of a key store (e.g. the one token key among several), so that every
   * server in a run presents the key under test whatever the client offers.
   */
  public static X509ExtendedKeyManager singleAlias(X509KeyManager delegate, String alias) {
    return new X509ExtendedKeyManager() {
      @Override
      public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
      }

      @Override
      public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
      }

      @Override
      public String[] getServerAliases(String keyType, Principal[] issuers) {
        return new String[] {alias};
      }

      @Override
      public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return alias;
      }

      @Override
      public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return alias;
      }

      @Override
      public X509Certificate[] getCertificateChain(String a) {
        return delegate.getCertificateChain(a);
      }

      @Override
      public PrivateKey getPrivateKey(String a) {
        return delegate.getPrivateKey(a);
      }
    };
  }

  /**
   * The bench client trusts any server certificate: chain validation would cost the same in every
   * mode and is not what is measured. The handshake still proves possession of the key, since the
   * client checks the server's CertificateVerify (or the Finished after RSA key exchange) against
   * the certificate's public key.
   */
  public static TrustManager[] trustAll() {
    return new TrustManager[] {
      new X509ExtendedTrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(
            X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(
            X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      }
    };
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
