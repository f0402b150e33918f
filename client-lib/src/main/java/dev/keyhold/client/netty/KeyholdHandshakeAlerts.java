package dev.keyhold.client.netty;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * Sends a fatal {@code internal_error} alert when a server handshake fails because Keyhold could
 * not do its private-key step (service down, too slow, refusing). BoringSSL ends such a handshake
 * without any alert (a failed private-key operation is not an alert condition to it), so the client
 * would only see the connection drop. Add it right after the {@link SslHandler}:
 *
 * <pre>{@code
 * pipeline.addLast(sslContext.newHandler(ch.alloc()), KeyholdHandshakeAlerts.INSTANCE, ...);
 * }</pre>
 *
 * <p>Why a plaintext alert is correct: a server's private-key step always precedes its first
 * encrypted byte on the wire. In TLS 1.2 the server's ChangeCipherSpec comes after both
 * ServerKeyExchange and the pre-master decryption; in TLS 1.3 BoringSSL sends ServerHello and the
 * encrypted flight together, after CertificateVerify, so the client has received nothing yet.
 * Client-side engines are skipped: in TLS 1.3 their CertificateVerify follows handshake keys.
 *
 * <p>Security note: the alert carries no detail; the reason stays in the server's own exception.
 */
@ChannelHandler.Sharable
public final class KeyholdHandshakeAlerts extends ChannelInboundHandlerAdapter {
  /** The shared, stateless instance. */
  public static final KeyholdHandshakeAlerts INSTANCE = new KeyholdHandshakeAlerts();

  private static final String FAILED = "dev.keyhold.netty.keyOperationFailed";

  /** TLS record: alert(21), legacy version 3.3, length 2, fatal(2), internal_error(80). */
  private static final byte[] INTERNAL_ERROR_ALERT = {21, 3, 3, 0, 2, 2, 80};

  private KeyholdHandshakeAlerts() {}

  /** Records on the engine's session that a Keyhold key operation failed, and why. */
  static void markFailed(SSLEngine engine, Throwable why) {
    SSLSession s = engine.getHandshakeSession();
    if (s == null) {
      s = engine.getSession();
    }
    try {
      s.putValue(FAILED, why != null ? why : new IllegalStateException("key operation failed"));
    } catch (RuntimeException ignored) {
      // A session that cannot hold values only costs us the alert; the handshake fails anyway.
    }
  }

  static boolean failed(SSLEngine engine) {
    return keyOperationFailure(engine) != null;
  }

  /**
   * Why Keyhold's private-key step failed on this server engine's handshake (typically a {@code
   * KeyholdException} saying whether Keyhold refused or was unavailable), or {@code null} if it did
   * not fail. BoringSSL reports such a handshake only as a generic failure; servers that want to
   * log the reason (one clear line when Keyhold refuses or is down) read it here on {@code
   * SslHandshakeCompletionEvent}.
   */
  public static Throwable keyOperationFailure(SSLEngine engine) {
    try {
      return engine.getSession().getValue(FAILED) instanceof Throwable t ? t : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
      ChannelHandlerContext tls = ctx.pipeline().context(SslHandler.class);
      if (tls != null) {
        SSLEngine engine = ((SslHandler) tls.handler()).engine();
        if (!engine.getUseClientMode() && failed(engine) && ctx.channel().isActive()) {
          // Written from the SslHandler's context, so it bypasses the (failed) engine and goes
          // straight to the socket, before SslHandler closes the channel.
          tls.writeAndFlush(Unpooled.wrappedBuffer(INTERNAL_ERROR_ALERT.clone()));
        }
      }
    }
    super.userEventTriggered(ctx, evt);
  }
}
