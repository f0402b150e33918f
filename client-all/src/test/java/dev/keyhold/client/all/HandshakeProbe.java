package dev.keyhold.client.all;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Runs in a child JVM whose class path is the one client jar and this class, nothing else: as an
 * app server would, it names provider and key store only by strings (the provider comes from a
 * {@code security.provider.N} line), loads the {@code Keyhold} key store from a properties file and
 * completes one TLS 1.3 handshake with itself. Prints the negotiated protocol and the provider's
 * class loader's jar.
 */
public final class HandshakeProbe {
  private HandshakeProbe() {}

  public static void main(String[] args) throws Exception {
    Path props = Path.of(args[0]);
    String alias = args[1];
    String protocol = args.length > 2 ? args[2] : "TLSv1.3";
    String suite = args.length > 3 ? args[3] : null;
    KeyStore ks = KeyStore.getInstance("Keyhold", "Keyhold");
    try (InputStream in = Files.newInputStream(props)) {
      ks.load(in, null);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    SSLContext server = SSLContext.getInstance("TLS");
    server.init(kmf.getKeyManagers(), null, null);

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("leaf", (X509Certificate) ks.getCertificate(alias));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext client = SSLContext.getInstance("TLS");
    client.init(null, tmf.getTrustManagers(), null);

    try (SSLServerSocket ss =
        (SSLServerSocket)
            server
                .getServerSocketFactory()
                .createServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread t =
          new Thread(
              () -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                  s.startHandshake();
                  s.getOutputStream().write("ok\n".getBytes(StandardCharsets.US_ASCII));
                  s.getOutputStream().flush();
                } catch (Exception e) {
                  e.printStackTrace();
                }
              });
      t.start();
      try (SSLSocket c =
          (SSLSocket)
              client
                  .getSocketFactory()
                  .createSocket(java.net.InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
        c.setEnabledProtocols(new String[] {protocol});
        if (suite != null) {
          c.setEnabledCipherSuites(new String[] {suite});
        }
        // Hostname checks are not the point here: trust is the pinned leaf.
        c.startHandshake();
        byte[] buf = new byte[3];
        int n = c.getInputStream().readNBytes(buf, 0, 3);
        OutputStream out = System.out;
        out.write(
            ("protocol="
                    + c.getSession().getProtocol()
                    + " suite="
                    + c.getSession().getCipherSuite()
                    + " reply="
                    + new String(buf, 0, n, StandardCharsets.US_ASCII).trim()
                    + " provider="
                    + Security.getProvider("Keyhold")
                        .getClass()
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                    + "\n")
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
      t.join();
    }
  }
}
