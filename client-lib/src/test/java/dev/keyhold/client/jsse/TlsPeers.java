package dev.keyhold.client.jsse;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/** Real JSSE peers for the integration tests: a one-shot TLS server loop and client helpers. */
final class TlsPeers {
  private TlsPeers() {}

  /** A Keyhold client for the test service, as {@code clientName}. */
  static KeyholdClient client(TestKeyholdService svc, String clientName, Duration deadline) {
    return KeyholdClient.create(TestClients.config(svc, clientName).deadline(deadline).build());
  }

  /** Trust managers whose anchors are exactly these certificates. */
  static TrustManager[] trusting(X509Certificate... anchors) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    for (int i = 0; i < anchors.length; i++) {
      ks.setCertificateEntry("anchor-" + i, anchors[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    return tmf.getTrustManagers();
  }

  static SSLContext context(KeyManager km, TrustManager[] tms) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(km == null ? null : new KeyManager[] {km}, tms, null);
    return ctx;
  }

  /** Polls until the counter reaches {@code expected} (metrics may be recorded after the reply). */
  static long awaitCount(LongSupplier counter, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long v = counter.getAsLong();
    while (v < expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
      v = counter.getAsLong();
    }
    return v;
  }

  /** A TLS server that handshakes, writes "ok\n" and closes; it records handshake failures. */
  static final class Server implements AutoCloseable {
    final SSLServerSocket socket;
    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
    private final Thread thread;

    Server(SSLContext ctx, boolean need, boolean want) throws IOException {
      socket = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket();
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      socket.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
      java.util.List<String> suites =
          new java.util.ArrayList<>(java.util.List.of(socket.getEnabledCipherSuites()));
      if (!suites.contains("TLS_RSA_WITH_AES_128_GCM_SHA256")) {
        suites.add("TLS_RSA_WITH_AES_128_GCM_SHA256");
      }
      socket.setEnabledCipherSuites(suites.toArray(String[]::new));
      if (need) {
        socket.setNeedClientAuth(true);
      } else if (want) {
        socket.setWantClientAuth(true);
      }
      thread = new Thread(this::loop, "tls-test-server");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    private void loop() {
      while (!socket.isClosed()) {
        try (SSLSocket s = (SSLSocket) socket.accept()) {
          s.setSoTimeout(10_000);
          try {
            s.startHandshake();
          } catch (IOException e) {
            failures.add(e);
            continue;
          }
          OutputStream out = s.getOutputStream();
          out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // closed, or the client went away
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Connects, handshakes, reads the server's line; returns the socket's session facts. */
  static String[] connect(SSLContext ctx, int port, String protocol, String suite)
      throws IOException {
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(15_000);
      if (protocol != null) {
        s.setEnabledProtocols(new String[] {protocol});
      }
      if (suite != null) {
        s.setEnabledCipherSuites(new String[] {suite});
      }
      s.startHandshake();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[3];
      int n = in.readNBytes(buf, 0, 3);
      return new String[] {
        s.getSession().getProtocol(),
        s.getSession().getCipherSuite(),
        new String(buf, 0, n, StandardCharsets.US_ASCII)
      };
    }
  }
}
