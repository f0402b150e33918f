package dev.keyhold.client.netty;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLException;

/**
 * Server TLS for several HSM-held keys (say one RSA and one EC) on one port, chosen per connection
 * from the client's ClientHello. BoringSSL holds one certificate per connection and Netty's key
 * manager cannot see the client's cipher suites, so a single context with two keys would always
 * present the same one and fail RSA-only or ECDSA-only clients. This reads the ClientHello first
 * (Netty's {@link SslClientHelloHandler}), picks the first key, in the caller's order, that the
 * client can use, and hands the connection to that key's context.
 *
 * <p>It also records the ClientHello's {@code client_version} on the engine, so that RSA key
 * exchange sends Keyhold the exact version (see {@link KeyholdAsyncPrivateKeyMethod}).
 *
 * <pre>{@code
 * KeyholdServerTls tls = KeyholdServerTls.create(client, keys, b -> b.clientAuth(ClientAuth.NONE));
 * pipeline.addLast(tls.newHandler(), KeyholdHandshakeAlerts.INSTANCE, ...);
 * }</pre>
 *
 * <p>Security note: the ClientHello is parsed for routing only, with bounds checks; anything
 * malformed falls back to the first key and leaves rejection to BoringSSL.
 */
public final class KeyholdServerTls implements AutoCloseable {
  private final List<OffloadedKey> keys;
  private final List<SslContext> contexts;
  private final ClientHelloVersions clientHelloVersions;

  private KeyholdServerTls(
      List<OffloadedKey> keys, List<SslContext> contexts, ClientHelloVersions clientHelloVersions) {
    this.keys = keys;
    this.contexts = contexts;
    this.clientHelloVersions = clientHelloVersions;
  }

  /**
   * One context per key, each built by {@link KeyholdSslContexts#serverBuilder(KeyholdClient,
   * List)} and then {@code customizer} (client auth, protocols, ...).
   */
  public static KeyholdServerTls create(
      KeyholdClient client, List<OffloadedKey> keys, UnaryOperator<SslContextBuilder> customizer)
      throws SSLException {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("at least one key is required");
    }
    ClientHelloVersions versions = new ClientHelloVersions();
    List<SslContext> contexts = new ArrayList<>();
    try {
      for (OffloadedKey k : keys) {
        contexts.add(
            customizer
                .apply(KeyholdSslContexts.serverBuilder(client, List.of(k), versions))
                .build());
      }
    } catch (SSLException | RuntimeException e) {
      contexts.forEach(ReferenceCountUtil::release);
      throw e;
    }
    return new KeyholdServerTls(List.copyOf(keys), List.copyOf(contexts), versions);
  }

  /** A new handler for one channel; it replaces itself with the chosen key's {@link SslHandler}. */
  public ChannelHandler newHandler() {
    return new Selector();
  }

  /** The per-key contexts, in the caller's order. */
  public List<SslContext> contexts() {
    return contexts;
  }

  ClientHelloVersions clientHelloVersions() {
    return clientHelloVersions;
  }

  /** Releases the per-key contexts. */
  @Override
  public void close() {
    contexts.forEach(ReferenceCountUtil::release);
  }

  /** Index of the first key the client can use; 0 if unsure. Package-private for tests. */
  int choose(ClientHelloSummary hello) {
    if (hello == null) {
      return 0;
    }
    for (int i = 0; i < keys.size(); i++) {
      if (usable(keys.get(i), hello)) {
        return i;
      }
    }
    return 0;
  }

  /**
   * TLS 1.3: the client must list a scheme the key can sign with (RSA-PSS for RSA keys, since TLS
   * 1.3 forbids PKCS#1 there; the key's own curve for ECDSA). TLS 1.2: a cipher suite of the key's
   * authentication kind.
   */
  private static boolean usable(OffloadedKey key, ClientHelloSummary hello) {
    boolean ec = key.keyType() == KeyType.KEY_TYPE_EC;
    if (hello.tls13()) {
      for (SignatureScheme s : SignatureScheme.values()) {
        boolean fits =
            ec
                ? s.padding() == SignatureScheme.Padding.ECDSA && s.curve().equals(key.curve())
                : s.padding() == SignatureScheme.Padding.PSS;
        if (fits && hello.offersScheme(s.codePoint())) {
          return true;
        }
      }
    }
    return ec ? hello.ecdsaSuites() : hello.rsaSuites();
  }

  private final class Selector extends SslClientHelloHandler<SslContext> {
    private int clientVersion = -1;

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
      ClientHelloSummary hello = clientHello == null ? null : ClientHelloSummary.parse(clientHello);
      if (hello != null) {
        clientVersion = hello.clientVersion();
      }
      return ctx.executor().newSucceededFuture(contexts.get(choose(hello)));
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, Future<SslContext> future)
        throws Exception {
      if (!future.isSuccess()) {
        throw new SSLException("cannot choose a Keyhold key for this connection", future.cause());
      }
      SslHandler tls = future.getNow().newHandler(ctx.alloc());
      if (clientVersion > 0) {
        clientHelloVersions.record(tls.engine(), clientVersion);
      }
      ctx.pipeline().replace(this, SslHandler.class.getName(), tls);
    }
  }
}
