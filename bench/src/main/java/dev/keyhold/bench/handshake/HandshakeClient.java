package dev.keyhold.bench.handshake;

import dev.keyhold.bench.load.LoadRunner.BlockingOperation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;

/**
 * One bench connection: TCP connect, a full TLS handshake, one small HTTP/1.1 request and its
 * response, close. Sessions are never resumed: each thread has its own {@code SSLContext}, and
 * after every connection every session in that context's client cache (the handshake's and any TLS
 * 1.3 ticket) is invalidated, so the next ClientHello offers no ticket or PSK and the server has to
 * do its private-key step again. (With one shared context, another thread's ticket could be offered
 * in the moment before it was invalidated: the service's operation count showed 159 operations for
 * 161 handshakes.)
 */
public final class HandshakeClient {
  private static final byte[] REQUEST =
      "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private final ThreadLocal<SSLContext> context;
  private final String[] protocols;
  private final String[] cipherSuites;

  /**
   * @param protocols e.g. {"TLSv1.3"}; null for the JDK default
   * @param cipherSuites e.g. {"TLS_RSA_WITH_AES_128_GCM_SHA256"} for RSA key exchange; null for the
   *     default
   */
  public HandshakeClient(String[] protocols, String[] cipherSuites)
      throws GeneralSecurityException {
    newContext(); // fails here, not on a load thread, if TLS is unavailable
    this.context =
        ThreadLocal.withInitial(
            () -> {
              try {
                return newContext();
              } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot create a TLS client context", e);
              }
            });
    this.protocols = protocols;
    this.cipherSuites = cipherSuites;
  }

  private static SSLContext newContext() throws GeneralSecurityException {
    SSLContext c = SSLContext.getInstance("TLS");
    c.init(null, TlsMaterial.trustAll(), null);
    return c;
  }

  /** The operation the load runner repeats against {@code server}. */
  public BlockingOperation against(InetSocketAddress server) {
    return () -> connectOnce(server);
  }

  /** Returns the negotiated "protocol suite" of one connection, for the report. */
  public String probe(InetSocketAddress server) throws IOException {
    return connectOnce(server);
  }

  private String connectOnce(InetSocketAddress server) throws IOException {
    SSLContext ctx = context.get();
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.setTcpNoDelay(true);
      s.setSoTimeout(15_000);
      SSLParameters p = s.getSSLParameters();
      if (protocols != null) {
        p.setProtocols(protocols);
      }
      if (cipherSuites != null) {
        p.setCipherSuites(cipherSuites);
      }
      s.setSSLParameters(p);
      s.connect(server, 5_000);
      s.startHandshake();
      String negotiated = s.getSession().getProtocol() + " " + s.getSession().getCipherSuite();
      OutputStream out = s.getOutputStream();
      out.write(REQUEST);
      out.flush();
      readResponse(s.getInputStream());
      s.getSession().invalidate();
      return negotiated;
    } finally {
      forgetSessions(ctx.getClientSessionContext());
    }
  }

  /** Invalidates every session in the cache (this thread's own context only). */
  static void forgetSessions(SSLSessionContext cache) {
    for (var ids = cache.getIds(); ids.hasMoreElements(); ) {
      SSLSession session = cache.getSession(ids.nextElement());
      if (session != null) {
        session.invalidate();
      }
    }
  }

  /**
   * Reads a response head and a Content-Length body (or to EOF), so the server finished its side.
   */
  static void readResponse(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int last4 = 0;
    int b;
    while ((b = in.read()) != -1) {
      head.append((char) b);
      last4 = (last4 << 8) | b;
      if (last4 == 0x0d0a0d0a) {
        break;
      }
      if (head.length() > 16_384) {
        throw new IOException("response head too long");
      }
    }
    if (b == -1) {
      throw new IOException("the server closed before answering");
    }
    String h = head.toString();
    if (!h.startsWith("HTTP/1.1 200") && !h.startsWith("HTTP/1.0 200")) {
      throw new IOException("unexpected response: " + h.lines().findFirst().orElse(""));
    }
    long length = -1;
    for (String line : h.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
        length = Long.parseLong(line.substring(colon + 1).trim());
      }
    }
    if (length < 0) {
      in.transferTo(OutputStream.nullOutputStream());
      return;
    }
    long skipped = 0;
    while (skipped < length && in.read() != -1) {
      skipped++;
    }
  }
}
