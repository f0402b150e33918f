package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A Netty/BoringSSL TLS client authenticates with an HSM-held client key against a server that
 * requires client certificates. Both sides' keys stay in Keyhold; the certificates are issued at
 * test time by the test CA for the HSM keys' public keys, so hostname and chain checks run for
 * real.
 */
class NettyClientAuthIT {
  private static TestKeyholdService svc;
  private static KeyholdClient client;
  private static X509Certificate ca;
  private static LocalPki pki;

  @BeforeAll
  static void start() throws Exception {
    svc = TestKeyholdService.start();
    client = TestClients.connect(svc, Duration.ofSeconds(10));
    pki = svc.hsm().pki().loadOrCreateCa();
    ca = pki.caCertificate();
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (svc != null) {
      svc.close();
    }
  }

  private static OffloadedKey issued(
      String keyName, String cn, List<String> dns, boolean clientCert) throws Exception {
    OffloadedKey placeholder = OffloadedKey.fetch(client, keyName);
    X509Certificate cert = pki.issueFor(cn, placeholder.chain()[0].getPublicKey(), dns, clientCert);
    return OffloadedKey.of(client.getKey(keyName), cert, ca);
  }

  @ParameterizedTest(name = "{0} client key, {2}")
  @CsvSource({
    "ec-p256, rsa2048, TLSv1.3",
    "rsa2048, ec-p384, TLSv1.3",
    "ec-p384, rsa2048, TLSv1.2",
    "rsa3072, ec-p256, TLSv1.2"
  })
  void nettyClient_hsmHeldClientKey_acceptedByServerRequiringCerts(
      String clientKey, String serverKey, String protocol) throws Exception {
    SslContext serverCtx =
        KeyholdSslContexts.serverBuilder(
                client, List.of(issued(serverKey, "localhost", List.of("localhost"), false)))
            .clientAuth(ClientAuth.REQUIRE)
            .trustManager(ca)
            .build();
    SslContext clientCtx =
        KeyholdSslContexts.clientBuilder(
                client, List.of(issued(clientKey, "netty-client-" + clientKey, List.of(), true)))
            .protocols(protocol)
            .trustManager(ca)
            .build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    long signsBefore = svc.metrics().count("sign", "ok");
    try (TestHttpsServer server = new TestHttpsServer(serverCtx, 1)) {
      CompletableFuture<String> body = new CompletableFuture<>();
      CompletableFuture<SSLSession> session = new CompletableFuture<>();
      Channel ch =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                      SslHandler tls = clientCtx.newHandler(c.alloc(), "localhost", server.port());
                      tls.handshakeFuture()
                          .addListener(
                              f -> {
                                if (f.isSuccess()) {
                                  session.complete(tls.engine().getSession());
                                } else {
                                  session.completeExceptionally(f.cause());
                                  body.completeExceptionally(f.cause());
                                }
                              });
                      c.pipeline()
                          .addLast(tls, new HttpClientCodec(), new HttpObjectAggregator(8192))
                          .addLast(
                              new SimpleChannelInboundHandler<FullHttpResponse>() {
                                @Override
                                protected void channelRead0(
                                    ChannelHandlerContext ctx, FullHttpResponse r) {
                                  body.complete(r.content().toString(StandardCharsets.UTF_8));
                                }
                              });
                    }
                  })
              .connect("127.0.0.1", server.port())
              .sync()
              .channel();
      DefaultFullHttpRequest req =
          new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
      req.headers().set(HttpHeaderNames.HOST, "localhost");
      session.get(30, TimeUnit.SECONDS);
      ch.writeAndFlush(req);
      assertThat(body.get(30, TimeUnit.SECONDS)).startsWith("Hello from Keyhold: " + protocol);
      // The server saw the HSM-held client certificate.
      assertThat(server.lastPeer.get()).contains("netty-client-" + clientKey);
      // Server signature + client CertificateVerify: both made by Keyhold.
      assertThat(svc.metrics().count("sign", "ok") - signsBefore).isGreaterThanOrEqualTo(2);
      ch.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
      ReferenceCountUtil.release(serverCtx);
      ReferenceCountUtil.release(clientCtx);
    }
  }
}
