package dev.keyhold.demo.jsse;

import dev.keyhold.client.keys.Certificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTPS server on the JDK's own TLS stack (an {@link SSLServerSocket} accept loop and a
 * bounded worker pool). It answers every request with one line naming the key, protocol and cipher
 * suite, then closes the connection, so every connection is one full handshake.
 *
 * <p>It is deliberately agnostic of where the private key lives: pass any {@link KeyManager} (a
 * PKCS#12 file, SunPKCS11 in-process, or Keyhold's key manager) or a ready {@link SSLContext}. This
 * makes it the common target of the handshake benchmark.
 *
 * <pre>{@code
 * try (JsseDemoServer server = JsseDemoServer.start(keyManager, "127.0.0.1", 0, ClientAuth.NONE, null)) {
 *   int port = server.port();
 *   ...
 * }
 * }</pre>
 *
 * <p>Protocols: TLS 1.3 and TLS 1.2. Suites: the JDK's enabled suites plus {@code
 * TLS_RSA_WITH_AES_128_GCM_SHA256} (RSA key exchange), added explicitly so the RSA pre-master path
 * stays available even where a JDK stops enabling it by default.
 *
 * <p>Security note: a failed handshake is logged as one line with the peer address and the reason
 * (for example "Keyhold UNAVAILABLE"), never with key material; the server keeps serving.
 */
public final class JsseDemoServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JsseDemoServer.class);

  /** The RSA key-exchange suite that must stay enabled, so DecryptPremaster is exercised. */
  public static final String RSA_KX_SUITE = "TLS_RSA_WITH_AES_128_GCM_SHA256";

  /** Whether and how the server asks for a client certificate. */
  public enum ClientAuth {
    /** No CertificateRequest. */
    NONE,
    /** CertificateRequest; a client without a certificate is still accepted. */
    WANT,
    /** CertificateRequest; a client without a valid certificate is rejected with an alert. */
    NEED
  }

  private static final AtomicInteger SERVER_IDS = new AtomicInteger();

  private final SSLServerSocket serverSocket;
  private final ExecutorService workers;
  private final Thread acceptor;
  private final X509KeyManager keyManager;
  private final AtomicLong handshakesOk = new AtomicLong();
  private final AtomicLong handshakesFailed = new AtomicLong();
  private volatile boolean closed;

  private JsseDemoServer(
      SSLServerSocket serverSocket, int workerThreads, X509KeyManager keyManager) {
    this.serverSocket = serverSocket;
    this.keyManager = keyManager;
    int id = SERVER_IDS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.workers =
        new ThreadPoolExecutor(
            workerThreads,
            workerThreads,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "jsse-demo-" + id + "-worker-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.acceptor = new Thread(this::acceptLoop, "jsse-demo-" + id + "-accept");
    this.acceptor.setDaemon(true);
  }

  /**
   * Starts a server with a ready {@link SSLContext}.
   *
   * @param context the TLS context (its key manager decides where the private key lives)
   * @param host a loopback address to bind, e.g. "127.0.0.1"
   * @param port the port, or 0 for an ephemeral one (see {@link #port()})
   * @param clientAuth whether to request a client certificate
   */
  public static JsseDemoServer start(
      SSLContext context, String host, int port, ClientAuth clientAuth) throws IOException {
    return builder(context).host(host).port(port).clientAuth(clientAuth).start();
  }

  /**
   * Starts a server with the given key manager, trusting the CA certificates in {@code clientCaPem}
   * (may be null when {@code clientAuth} is NONE) for client certificates.
   */
  public static JsseDemoServer start(
      KeyManager keyManager, String host, int port, ClientAuth clientAuth, Path clientCaPem)
      throws IOException, GeneralSecurityException {
    return builder(sslContext(keyManager, clientCaPem))
        .keyManager(keyManager)
        .host(host)
        .port(port)
        .clientAuth(clientAuth)
        .start();
  }

  /** A builder, for the less common options (worker threads, backlog). */
  public static Builder builder(SSLContext context) {
    return new Builder(context);
  }

  /**
   * A TLS context with one key manager and, if {@code clientCaPem} is not null, a trust manager for
   * the CA certificates in that PEM file; otherwise the JDK's default trust.
   */
  public static SSLContext sslContext(KeyManager keyManager, Path clientCaPem)
      throws IOException, GeneralSecurityException {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(
        new KeyManager[] {keyManager},
        clientCaPem == null ? null : trustManagers(clientCaPem),
        null);
    return ctx;
  }

  /** Trust managers that accept exactly the CA certificates in a PEM file. */
  public static TrustManager[] trustManagers(Path caPem)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    int i = 0;
    for (Certificate c : Certificates.readPem(caPem)) {
      ks.setCertificateEntry("ca-" + i++, c);
    }
    if (i == 0) {
      throw new GeneralSecurityException("no certificate in " + caPem);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return tmf.getTrustManagers();
  }

  /** The bound port (useful after binding port 0). */
  public int port() {
    return serverSocket.getLocalPort();
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return (InetSocketAddress) serverSocket.getLocalSocketAddress();
  }

  /** Handshakes completed since start. */
  public long handshakesOk() {
    return handshakesOk.get();
  }

  /** Handshakes that failed since start (each was logged as one line). */
  public long handshakesFailed() {
    return handshakesFailed.get();
  }

  /** Stops accepting, closes the listening socket and stops the workers. Idempotent. */
  @Override
  public void close() {
    closed = true;
    try {
      serverSocket.close();
    } catch (IOException e) {
      log.debug("closing the listening socket: {}", e.toString());
    }
    workers.shutdownNow();
    try {
      acceptor.join(5000);
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = serverSocket.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("accept failed: {}", e.toString());
        }
        continue;
      }
      try {
        workers.execute(() -> serve((SSLSocket) s));
      } catch (RuntimeException e) {
        closeQuietly(s);
      }
    }
  }

  private void serve(SSLSocket socket) {
    String peer = String.valueOf(socket.getRemoteSocketAddress());
    try (socket) {
      // A peer that stalls must not hold a worker forever.
      socket.setSoTimeout(10_000);
      // Handshake flights and the response are small writes; do not let Nagle hold them back.
      socket.setTcpNoDelay(true);
      try {
        socket.startHandshake();
      } catch (IOException e) {
        handshakesFailed.incrementAndGet();
        if (HandshakeFailures.causedByKeyhold(e)) {
          log.warn("TLS handshake from {} failed: {}", peer, HandshakeFailures.describe(e));
        } else if (HandshakeFailures.peerLeft(e)) {
          // Port probes and health checks connect and close; not worth a warning.
          log.debug("TLS handshake from {} ended: {}", peer, HandshakeFailures.describe(e));
        } else {
          log.info("TLS handshake from {} failed: {}", peer, HandshakeFailures.describe(e));
        }
        return;
      }
      handshakesOk.incrementAndGet();
      if (DemoPage.readRequestHead(socket.getInputStream())) {
        DemoPage.write(socket.getOutputStream(), socket.getSession(), keyManager);
      }
    } catch (SocketException | SSLException e) {
      log.debug("connection from {} ended: {}", peer, e.toString());
    } catch (IOException e) {
      log.debug("connection from {} failed: {}", peer, e.toString());
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing to do: the connection is being dropped anyway
    }
  }

  /**
   * Options for {@link JsseDemoServer}; defaults: 127.0.0.1, port 0, no client auth, 32 workers.
   */
  public static final class Builder {
    private final SSLContext context;
    private String host = "127.0.0.1";
    private int port;
    private ClientAuth clientAuth = ClientAuth.NONE;
    private int workerThreads = 32;
    private int backlog = 256;
    private X509KeyManager keyManager;

    private Builder(SSLContext context) {
      this.context = Objects.requireNonNull(context, "context");
    }

    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    public Builder port(int port) {
      this.port = port;
      return this;
    }

    public Builder clientAuth(ClientAuth clientAuth) {
      this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
      return this;
    }

    /**
     * Worker threads. Each handshake holds one while it waits for a remote key operation, so with
     * an offloaded key this should exceed the core count.
     */
    public Builder workerThreads(int workerThreads) {
      if (workerThreads < 1) {
        throw new IllegalArgumentException("workerThreads must be positive");
      }
      this.workerThreads = workerThreads;
      return this;
    }

    public Builder backlog(int backlog) {
      this.backlog = backlog;
      return this;
    }

    /** The key manager inside the context, only to name the key in responses; optional. */
    public Builder keyManager(KeyManager keyManager) {
      this.keyManager = keyManager instanceof X509KeyManager x ? x : null;
      return this;
    }

    /** Binds the port and starts serving. */
    public JsseDemoServer start() throws IOException {
      SSLServerSocket ss = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
      try {
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress(InetAddress.getByName(host), port), backlog);
        ss.setEnabledProtocols(supported(ss.getSupportedProtocols(), "TLSv1.3", "TLSv1.2"));
        ss.setEnabledCipherSuites(withRsaKeyExchange(ss));
        switch (clientAuth) {
          case NEED -> ss.setNeedClientAuth(true);
          case WANT -> ss.setWantClientAuth(true);
          case NONE -> ss.setWantClientAuth(false);
        }
      } catch (IOException | RuntimeException e) {
        ss.close();
        throw e;
      }
      JsseDemoServer server = new JsseDemoServer(ss, workerThreads, keyManager);
      server.acceptor.start();
      log.info(
          "JSSE demo server listening on https://{}:{} (client auth {}, protocols {})",
          host,
          server.port(),
          clientAuth.name().toLowerCase(java.util.Locale.ROOT),
          String.join(",", ss.getEnabledProtocols()));
      return server;
    }

    private static String[] supported(String[] supported, String... wanted) {
      Set<String> s = Set.of(supported);
      return Arrays.stream(wanted).filter(s::contains).toArray(String[]::new);
    }

    private static String[] withRsaKeyExchange(SSLServerSocket ss) {
      Set<String> suites = new LinkedHashSet<>(List.of(ss.getEnabledCipherSuites()));
      if (!suites.contains(RSA_KX_SUITE)) {
        if (List.of(ss.getSupportedCipherSuites()).contains(RSA_KX_SUITE)) {
          suites.add(RSA_KX_SUITE);
        } else {
          log.warn("{} is not supported by this JDK; RSA key exchange is off", RSA_KX_SUITE);
        }
      }
      return new ArrayList<>(suites).toArray(String[]::new);
    }
  }
}
