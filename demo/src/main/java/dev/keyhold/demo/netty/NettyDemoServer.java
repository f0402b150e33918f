package dev.keyhold.demo.netty;

import dev.keyhold.client.netty.KeyholdHandshakeAlerts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTPS server on Netty: TLS through whatever {@link SslContext} it is given (Keyhold async
 * offload from {@code KeyholdSslContexts.forServer}, or a local key file for a baseline), then
 * HTTP/1.1 with keep-alive, answering every request with a short text page that names the
 * negotiated protocol and cipher suite.
 *
 * <p>Reusable from benchmarks: {@code NettyDemoServer.start(sslContext, "127.0.0.1", 0, 1)} returns
 * a {@link Handle} with the bound {@link Handle#port()}; {@link Handle#close()} stops the event
 * loops. The event-loop thread count is fixed by the caller, so an offloaded and a local-key server
 * can be compared with the same number of threads. The server never blocks its event loop: with an
 * asynchronous private-key method the handshake is parked while the key operation runs.
 *
 * <p>When Keyhold refuses or is down, the server logs one WARN line per change of state ({@link
 * KeyholdFailureLog}); other handshake failures (scanners, peers that leave) stay at debug level.
 * Security note: lines hold the exception class and message, never key material.
 */
public final class NettyDemoServer {
  private static final Logger LOG = LoggerFactory.getLogger(NettyDemoServer.class);

  private NettyDemoServer() {}

  /** A running server. Thread-safe. */
  public static final class Handle implements AutoCloseable {
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final Counters counters;

    private Handle(
        EventLoopGroup boss, EventLoopGroup workers, Channel serverChannel, Counters counters) {
      this.boss = boss;
      this.workers = workers;
      this.serverChannel = serverChannel;
      this.counters = counters;
    }

    /** The bound TCP port (useful when started with port 0). */
    public int port() {
      return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The bound address. */
    public InetSocketAddress address() {
      return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The worker event loops; tests put extra channels on them to prove the loop stays free. */
    public EventLoopGroup workers() {
      return workers;
    }

    /** Handshakes completed successfully since start. */
    public long handshakesCompleted() {
      return counters.handshakesOk.get();
    }

    /** Handshakes that failed (alert sent or received, or connection lost) since start. */
    public long handshakesFailed() {
      return counters.handshakesFailed.get();
    }

    /** HTTP responses written since start. */
    public long responses() {
      return counters.responses.get();
    }

    /** Stops accepting, closes connections and waits (bounded) for the event loops to end. */
    @Override
    public void close() {
      serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      boss.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
      workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  private static final class Counters {
    final AtomicLong handshakesOk = new AtomicLong();
    final AtomicLong handshakesFailed = new AtomicLong();
    final AtomicLong responses = new AtomicLong();
  }

  /**
   * Starts the server and returns once it is bound.
   *
   * @param sslContext a server context; the caller keeps ownership (and releases it after close)
   * @param host a loopback address to bind, e.g. "127.0.0.1"
   * @param port the port, or 0 for an ephemeral one
   * @param eventLoopThreads worker event-loop threads (≥ 1); accepting runs on one extra thread
   */
  public static Handle start(SslContext sslContext, String host, int port, int eventLoopThreads)
      throws InterruptedException {
    if (!sslContext.isServer()) {
      throw new IllegalArgumentException("a server SslContext is required");
    }
    return start(ch -> sslContext.newHandler(ch.alloc()), host, port, eventLoopThreads);
  }

  /**
   * Starts the server with a TLS handler made per connection by {@code tlsHandler}, e.g. {@code ch
   * -> keyholdServerTls.newHandler()} to choose among several HSM-held keys per ClientHello.
   */
  public static Handle start(
      Function<Channel, ChannelHandler> tlsHandler, String host, int port, int eventLoopThreads)
      throws InterruptedException {
    if (eventLoopThreads < 1) {
      throw new IllegalArgumentException("eventLoopThreads must be at least 1");
    }
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup workers =
        new MultiThreadIoEventLoopGroup(eventLoopThreads, NioIoHandler.newFactory());
    Counters counters = new Counters();
    KeyholdFailureLog keyholdFailures = new KeyholdFailureLog(LOG);
    try {
      ServerBootstrap b =
          new ServerBootstrap()
              .group(boss, workers)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast("tls", tlsHandler.apply(ch))
                          // BoringSSL sends no alert when an offloaded key step fails; this does.
                          .addLast("keyhold-alerts", KeyholdHandshakeAlerts.INSTANCE)
                          .addLast("handshake", new HandshakeWatcher(counters, keyholdFailures))
                          .addLast("http", new HttpServerCodec())
                          .addLast("aggregate", new HttpObjectAggregator(16 * 1024))
                          .addLast("page", new PageHandler(counters));
                    }
                  });
      Channel ch = b.bind(host, port).sync().channel();
      LOG.info(
          "Netty/BoringSSL demo listening on https://{}:{}/ with {} event-loop thread(s)",
          host,
          ((InetSocketAddress) ch.localAddress()).getPort(),
          eventLoopThreads);
      return new Handle(boss, workers, ch, counters);
    } catch (RuntimeException | InterruptedException e) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Counts handshake outcomes and closes connections whose handshake failed. */
  private static final class HandshakeWatcher
      extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final Counters counters;
    private final KeyholdFailureLog keyholdFailures;

    HandshakeWatcher(Counters counters, KeyholdFailureLog keyholdFailures) {
      this.counters = counters;
      this.keyholdFailures = keyholdFailures;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        Throwable keyhold =
            tls == null ? null : KeyholdHandshakeAlerts.keyOperationFailure(tls.engine());
        if (e.isSuccess()) {
          counters.handshakesOk.incrementAndGet();
          keyholdFailures.succeeded();
        } else if (keyhold != null) {
          // Log before counting, so a caller that waits for the count also sees the line.
          keyholdFailures.failed(ctx.channel().remoteAddress(), keyhold);
          counters.handshakesFailed.incrementAndGet();
          ctx.close();
        } else {
          counters.handshakesFailed.incrementAndGet();
          LOG.debug(
              "handshake with {} failed: {}",
              ctx.channel().remoteAddress(),
              String.valueOf(e.cause()));
          ctx.close();
        }
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // SslHandler has already sent an alert where one applies; all we do is free the connection.
      LOG.debug("connection {} failed: {}", ctx.channel().remoteAddress(), String.valueOf(cause));
      ctx.close();
    }
  }

  /** Answers every request with a short page naming the TLS parameters. */
  private static final class PageHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Counters counters;

    PageHandler(Counters counters) {
      this.counters = counters;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
      String body =
          "Hello from Keyhold (Netty/BoringSSL): "
              + session.getProtocol()
              + " "
              + session.getCipherSuite()
              + "\n";
      ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
      FullHttpResponse resp =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, content);
      resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
      resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (keepAlive) {
        resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      counters.responses.incrementAndGet();
      var f = ctx.writeAndFlush(resp);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("request on {} failed: {}", ctx.channel().remoteAddress(), String.valueOf(cause));
      ctx.close();
    }
  }
}
