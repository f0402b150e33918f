package dev.keyhold.service.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Attaches the caller's {@link ClientIdentity}, taken from the mTLS session, and a request id to
 * the call's {@link Context}. A call without a verified client certificate is closed
 * UNAUTHENTICATED (the TLS layer already requires one; this is defence in depth). The request id is
 * echoed in the {@code keyhold-request-id} response header, or in the trailers of a call that fails
 * before sending headers.
 */
public final class AuthInterceptor implements ServerInterceptor {
  public static final Context.Key<ClientIdentity> IDENTITY = Context.key("keyhold-identity");
  public static final Context.Key<String> REQUEST_ID = Context.key("keyhold-request-id");

  /**
   * Set by authorization when a rule allows the call, read by the audit: the call's one identity is
   * the name that rule matched (unset: the caller's {@link ClientIdentity#primary()}).
   */
  public static final Context.Key<AtomicReference<Policy.Grant>> GRANT =
      Context.key("keyhold-grant");

  public static final Metadata.Key<String> REQUEST_ID_HEADER =
      Metadata.Key.of("keyhold-request-id", Metadata.ASCII_STRING_MARSHALLER);

  private final String idPrefix = Long.toHexString(System.nanoTime() & 0xffffffL);
  private final AtomicLong counter = new AtomicLong();

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    ClientIdentity who = identity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (who == null) {
      call.close(
          Status.UNAUTHENTICATED.withDescription("a client certificate is required"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    String requestId = idPrefix + "-" + counter.incrementAndGet();
    ServerCall<Q, R> withHeader =
        new SimpleForwardingServerCall<>(call) {
          private volatile boolean headersSent;

          @Override
          public void sendHeaders(Metadata responseHeaders) {
            responseHeaders.put(REQUEST_ID_HEADER, requestId);
            headersSent = true;
            super.sendHeaders(responseHeaders);
          }

          @Override
          public void close(Status status, Metadata trailers) {
            // A failed call is answered trailers-only, without headers: echo the id there, so
            // that the failures, which most need tracing, can be found in the audit log.
            if (!headersSent) {
              trailers.put(REQUEST_ID_HEADER, requestId);
            }
            super.close(status, trailers);
          }
        };
    Context ctx =
        Context.current()
            .withValues(IDENTITY, who, REQUEST_ID, requestId, GRANT, new AtomicReference<>());
    return Contexts.interceptCall(ctx, withHeader, headers, next);
  }

  private static final String SESSION_KEY = "dev.keyhold.identity";

  /**
   * The caller's identity, derived once per TLS session and cached on it (parsing and hashing the
   * certificate is not free).
   */
  static ClientIdentity identity(SSLSession session) {
    if (session == null) {
      return null;
    }
    if (session.getValue(SESSION_KEY) instanceof ClientIdentity cached) {
      return cached;
    }
    ClientIdentity fresh = deriveIdentity(session);
    if (fresh != null) {
      session.putValue(SESSION_KEY, fresh);
    }
    return fresh;
  }

  private static ClientIdentity deriveIdentity(SSLSession session) {
    try {
      Certificate[] peer = session.getPeerCertificates();
      if (peer.length == 0 || !(peer[0] instanceof X509Certificate leaf)) {
        return null;
      }
      return ClientIdentity.of(leaf);
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }
}
