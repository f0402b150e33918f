package dev.keyhold.client.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;

/**
 * A minimal HTTPS server for the integration tests (the demo module's server depends on this
 * module, so the tests carry their own): one worker event loop by default, a text page naming the
 * protocol and suite, and a queue of handshake outcomes.
 */
final class TestHttpsServer implements AutoCloseable {
  final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  final EventLoopGroup workers;
  final Channel channel;
  final LinkedBlockingQueue<SslHandshakeCompletionEvent> handshakes = new LinkedBlockingQueue<>();

  /** The client certificate subject of the last request, or "none". */
  final java.util.concurrent.atomic.AtomicReference<String> lastPeer =
      new java.util.concurrent.atomic.AtomicReference<>("none");

  TestHttpsServer(SslContext ssl, int threads) throws InterruptedException {
    this(ch -> ssl.newHandler(ch.alloc()), threads);
  }

  TestHttpsServer(
      java.util.function.Function<Channel, io.netty.channel.ChannelHandler> tls, int threads)
      throws InterruptedException {
    workers = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
    channel =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(tls.apply(ch))
                        .addLast(KeyholdHandshakeAlerts.INSTANCE)
                        .addLast(
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void userEventTriggered(
                                  ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e) {
                                  handshakes.add(e);
                                  if (!e.isSuccess()) {
                                    ctx.close();
                                  }
                                }
                                ctx.fireUserEventTriggered(evt);
                              }

                              @Override
                              public void exceptionCaught(
                                  ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                              }
                            })
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(8192))
                        .addLast(
                            new SimpleChannelInboundHandler<FullHttpRequest>() {
                              @Override
                              protected void channelRead0(
                                  ChannelHandlerContext ctx, FullHttpRequest req) {
                                SSLSession s =
                                    ctx.pipeline().get(SslHandler.class).engine().getSession();
                                try {
                                  lastPeer.set(s.getPeerPrincipal().getName());
                                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                                  lastPeer.set("none");
                                }
                                ByteBuf body =
                                    Unpooled.copiedBuffer(
                                        "Hello from Keyhold: "
                                            + s.getProtocol()
                                            + " "
                                            + s.getCipherSuite()
                                            + "\n",
                                        StandardCharsets.UTF_8);
                                FullHttpResponse r =
                                    new DefaultFullHttpResponse(
                                        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
                                r.headers()
                                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
                                var f = ctx.writeAndFlush(r);
                                if (!HttpUtil.isKeepAlive(req)) {
                                  f.addListener(ChannelFutureListener.CLOSE);
                                }
                              }
                            });
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
