package dev.keyhold.client.malicious;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.malicious.RawRsaTlsClient.Outcome;
import dev.keyhold.client.malicious.RawRsaTlsClient.Variant;
import dev.keyhold.client.netty.KeyholdHandshakeAlerts;
import dev.keyhold.client.netty.KeyholdSslContexts;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 items 6 and 9: a hostile TLS 1.2 RSA-key-exchange client ({@link RawRsaTlsClient})
 * against four servers side by side: Netty/BoringSSL with the key in Keyhold and with the same-size
 * key in process, JSSE with the key in Keyhold and with a local SunRsaSign key. For every malformed
 * ClientKeyExchange the Keyhold-backed server must answer exactly as the local-key server of its
 * stack (same alert, after the same message, no early close), and every PKCS#1-level malformation
 * must get one answer: the one a valid-looking but unknown pre-master gets.
 */
class MaliciousKeyExchangeIT {
  /**
   * The PKCS#1 / pre-master malformations of item 9 that a local key decrypts (all of full modulus
   * length, below the modulus). {@link Variant#EQUAL_TO_MODULUS} is not among them: with a local
   * key both stacks refuse it before decrypting (JSSE: illegal_parameter, BoringSSL: close without
   * alert), like a wrong length, and Keyhold matches that; comparing with the public modulus is no
   * oracle.
   */
  static final EnumSet<Variant> SAME_LENGTH_INVALID =
      EnumSet.of(
          Variant.WRONG_FIRST_BYTE,
          Variant.WRONG_BLOCK_TYPE,
          Variant.NO_ZERO_SEPARATOR,
          Variant.SEPARATOR_IN_FIRST_8_PADDING_BYTES,
          Variant.PLAINTEXT_LENGTH_47,
          Variant.PLAINTEXT_LENGTH_49,
          Variant.WRONG_VERSION,
          Variant.ALL_ZEROS,
          Variant.SAME_LENGTH_GARBAGE);

  private static TestKeyholdService svc;
  private static KeyholdClient client;
  private static final List<AutoCloseable> servers = new ArrayList<>();
  private static int nettyKeyhold;
  private static int nettyLocal;
  private static int jsseKeyhold;
  private static int jsseLocal;

  @BeforeAll
  static void start() throws Exception {
    svc = TestKeyholdService.start();
    client = TestClients.connect(svc, Duration.ofSeconds(10));
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair local = g.generateKeyPair();
    X509Certificate localCert = selfSigned(local);

    SslContext keyholdCtx = KeyholdSslContexts.forServer(client, "rsa2048");
    SslContext localCtx =
        SslContextBuilder.forServer(local.getPrivate(), localCert)
            .sslProvider(SslProvider.OPENSSL)
            .protocols("TLSv1.3", "TLSv1.2")
            .ciphers(KeyholdSslContexts.DEFAULT_SERVER_CIPHERS)
            .build();
    nettyKeyhold = netty(keyholdCtx);
    nettyLocal = netty(localCtx);

    jsseKeyhold = jsse(KeyholdKeyManager.create(client, "rsa2048"));
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("local", local.getPrivate(), new char[0], new X509Certificate[] {localCert});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
    kmf.init(ks, new char[0]);
    jsseLocal = jsse(kmf.getKeyManagers()[0]);
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : servers) {
      c.close();
    }
    if (client != null) {
      client.close();
    }
    if (svc != null) {
      svc.close();
    }
  }

  private static Map<Variant, Outcome> play(int port) throws Exception {
    Map<Variant, Outcome> m = new EnumMap<>(Variant.class);
    for (Variant v : Variant.values()) {
      m.put(v, RawRsaTlsClient.run(port, v));
    }
    return m;
  }

  @Test
  void netty_keyholdAnswersEveryMalformedKeyExchangeLikeALocalKey() throws Exception {
    Map<Variant, Outcome> keyhold = play(nettyKeyhold);
    Map<Variant, Outcome> local = play(nettyLocal);
    System.out.println("netty keyhold " + keyhold + "\nnetty local   " + local);
    assertSideBySide(keyhold, local);
  }

  @Test
  void jsse_keyholdAnswersEveryMalformedKeyExchangeLikeALocalKey() throws Exception {
    Map<Variant, Outcome> keyhold = play(jsseKeyhold);
    Map<Variant, Outcome> local = play(jsseLocal);
    System.out.println("jsse keyhold " + keyhold + "\njsse local   " + local);
    assertSideBySide(keyhold, local);
  }

  private static void assertSideBySide(Map<Variant, Outcome> keyhold, Map<Variant, Outcome> local) {
    assertThat(keyhold.get(Variant.VALID)).hasToString("completed");
    assertThat(local.get(Variant.VALID)).hasToString("completed");
    assertThat(keyhold).as("Keyhold vs local key, per variant").isEqualTo(local);
    for (Variant v : SAME_LENGTH_INVALID) {
      assertThat(keyhold.get(v))
          .as(v + ": the answer an unknown pre-master gets (fatal bad_record_mac to Finished)")
          .isEqualTo(new Outcome("alert", 2, 20, 0));
    }
  }

  private static int netty(SslContext ctx) throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Channel ch =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel c) {
                    c.pipeline()
                        .addLast(ctx.newHandler(c.alloc()))
                        .addLast(KeyholdHandshakeAlerts.INSTANCE)
                        .addLast(
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void userEventTriggered(ChannelHandlerContext x, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e) {
                                  x.close();
                                }
                                x.fireUserEventTriggered(evt);
                              }

                              @Override
                              public void exceptionCaught(ChannelHandlerContext x, Throwable t) {
                                x.close();
                              }
                            });
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
    servers.add(
        () -> {
          ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
          group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
          ReferenceCountUtil.release(ctx);
        });
    return ((InetSocketAddress) ch.localAddress()).getPort();
  }

  private static int jsse(KeyManager km) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {km}, null, null);
    SSLServerSocket socket = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    socket.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
    List<String> suites = new ArrayList<>(List.of(socket.getEnabledCipherSuites()));
    suites.add("TLS_RSA_WITH_AES_128_GCM_SHA256");
    socket.setEnabledCipherSuites(suites.toArray(String[]::new));
    Thread t =
        new Thread(
            () -> {
              while (!socket.isClosed()) {
                try (SSLSocket s = (SSLSocket) socket.accept()) {
                  s.setSoTimeout(30_000);
                  s.startHandshake();
                } catch (IOException e) {
                  // the hostile client's handshake failed, as it should
                }
              }
            },
            "malicious-kx-jsse");
    t.setDaemon(true);
    t.start();
    servers.add(socket::close);
    return socket.getLocalPort();
  }

  private static X509Certificate selfSigned(KeyPair kp) throws Exception {
    X500Name name = new X500Name("CN=local-rsa");
    var holder =
        new JcaX509v3CertificateBuilder(
                name,
                BigInteger.valueOf(System.nanoTime()),
                new Date(),
                new Date(System.currentTimeMillis() + 86_400_000L),
                name,
                kp.getPublic())
            .build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate()));
    return new JcaX509CertificateConverter().getCertificate(holder);
  }
}
