package dev.keyhold.demo.jsse;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A minimal JSSE HTTPS client: one GET over a fresh connection. */
final class JavaTlsClient {
  private JavaTlsClient() {}

  static String get(SSLContext ctx, int port, String protocol, String suite) throws IOException {
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      if (protocol != null) {
        s.setEnabledProtocols(new String[] {protocol});
      }
      if (suite != null) {
        s.setEnabledCipherSuites(new String[] {suite});
      }
      s.startHandshake();
      OutputStream out = s.getOutputStream();
      out.write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
