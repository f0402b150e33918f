package dev.keyhold.demo.jsse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509KeyManager;

/**
 * The demo's one-line HTTP/1.1 page: which key served the handshake, with which protocol and suite,
 * and who the client is. Just enough HTTP for curl and a typed request in openssl s_client; every
 * response closes the connection, so each request is a full handshake.
 */
final class DemoPage {
  private static final int MAX_HEADER_BYTES = 8192;

  private DemoPage() {}

  /** Reads up to the blank line that ends an HTTP request head; false if the peer left first. */
  static boolean readRequestHead(InputStream in) throws IOException {
    int last4 = 0;
    int total = 0;
    int b;
    while ((b = in.read()) != -1) {
      last4 = (last4 << 8) | b;
      // CRLF CRLF, or LF LF for hand-typed requests through openssl s_client.
      if (last4 == 0x0d0a0d0a || (last4 & 0xffff) == 0x0a0a || ++total > MAX_HEADER_BYTES) {
        return true;
      }
    }
    return false;
  }

  /** Writes the response for this session and flushes it. */
  static void write(OutputStream out, SSLSession session, X509KeyManager keyManager)
      throws IOException {
    byte[] body = body(session, keyManager).getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    // One write, one TLS record, one segment: two small writes meet Nagle's algorithm and the
    // client's delayed ACK, which stalls every response by 40 ms.
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    byte[] response = java.util.Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, response, headBytes.length, body.length);
    out.write(response);
    out.flush();
  }

  static String body(SSLSession session, X509KeyManager keyManager) {
    return "hello from Keyhold: key "
        + keyName(session, keyManager)
        + ", protocol "
        + session.getProtocol()
        + ", suite "
        + session.getCipherSuite()
        + ", client "
        + clientName(session)
        + "\n";
  }

  /** The alias whose leaf certificate the server sent, else the certificate's subject. */
  private static String keyName(SSLSession session, X509KeyManager keyManager) {
    Certificate[] local = session.getLocalCertificates();
    if (local == null || local.length == 0) {
      return "(none)";
    }
    if (keyManager != null) {
      for (String type : new String[] {"RSA", "EC"}) {
        String[] aliases = keyManager.getServerAliases(type, null);
        if (aliases == null) {
          continue;
        }
        for (String alias : aliases) {
          X509Certificate[] chain = keyManager.getCertificateChain(alias);
          if (chain != null && chain.length > 0 && chain[0].equals(local[0])) {
            return alias;
          }
        }
      }
    }
    return ((X509Certificate) local[0]).getSubjectX500Principal().getName();
  }

  private static String clientName(SSLSession session) {
    try {
      Certificate[] peer = session.getPeerCertificates();
      return ((X509Certificate) peer[0]).getSubjectX500Principal().getName();
    } catch (SSLPeerUnverifiedException e) {
      return "(no certificate)";
    }
  }
}
