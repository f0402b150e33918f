package dev.keyhold.client.rpc;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.DecryptPremasterResponse;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.SignRequest;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.protobuf.StatusProto;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.SSLException;

/**
 * The connection to a Keyhold service, shared by any number of TLS contexts: one gRPC channel with
 * mTLS (TLS 1.3), round-robin over the target's replicas that report SERVING, a deadline on every
 * call, retries of UNAVAILABLE on another replica (or hedging) by gRPC's service config, and a
 * bound on calls in flight. Thread-safe; close it when done.
 *
 * <p>Futures returned by the {@code *Async} methods complete on a gRPC transport thread; stages
 * chained on them must not block.
 *
 * <p>Security guarantees: sends only digests and ciphertexts; failures surface as {@link
 * KeyholdException} with the service's status and reason, never as padding errors.
 */
public final class KeyholdClient implements AutoCloseable {
  private final KeyholdClientConfig config;
  private final ManagedChannel channel;
  private final KeyServiceGrpc.KeyServiceFutureStub futureStub;
  private final KeyServiceGrpc.KeyServiceBlockingStub blockingStub;
  private final InFlightLimit inFlight;
  private final KeyWatcher keyWatcher;

  static {
    StaticNameResolverProvider.register();
  }

  private static final long RECONNECT_INTERVAL_NANOS = 1_000_000_000L;
  private final AtomicLong lastReconnect =
      new AtomicLong(System.nanoTime() - RECONNECT_INTERVAL_NANOS);

  private KeyholdClient(KeyholdClientConfig config, ManagedChannel channel) {
    this.config = config;
    this.channel = channel;
    this.inFlight = new InFlightLimit(config.maxInFlight());
    this.futureStub = KeyServiceGrpc.newFutureStub(channel).withInterceptors(inFlight);
    this.blockingStub = KeyServiceGrpc.newBlockingStub(channel).withInterceptors(inFlight);
    this.keyWatcher = new KeyWatcher(this, config.keyRefreshInterval());
  }

  /**
   * Calls {@code onChange} with the key's new {@code KeyInfo} whenever a periodic {@code GetKey}
   * (every {@link KeyholdClientConfig#keyRefreshInterval()}) finds that key {@code keyName} no
   * longer has version {@code version}: a renewed certificate or the name moved to another key. The
   * callback runs on the client's one refresh thread, never on an event loop. Close the result to
   * stop watching; closing the client stops every watch.
   */
  public AutoCloseable watchKey(String keyName, String version, KeyWatcher.Listener onChange) {
    return keyWatcher.watch(keyName, version, onChange);
  }

  /** Opens the channel; connection happens lazily on the first call. */
  public static KeyholdClient create(KeyholdClientConfig config) {
    SslContext ssl;
    try {
      ssl =
          GrpcSslContexts.forClient()
              .trustManager(config.trustedCa().toFile())
              .keyManager(config.clientCertificate().toFile(), config.clientKey().toFile())
              .protocols("TLSv1.3")
              .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot set up mTLS to Keyhold from "
              + config.trustedCa()
              + ", "
              + config.clientCertificate()
              + ": "
              + e.getMessage(),
          e);
    }
    NettyChannelBuilder b =
        NettyChannelBuilder.forTarget(config.target())
            // Round-robin reconnects a replica it lost with exponential backoff (1 s doubling
            // ×1.6, capped at 120 s), so a restarted replica gets traffic again by itself.
            .sslContext(ssl)
            .defaultServiceConfig(serviceConfig(config))
            .enableRetry()
            // Completions run on the transport thread, saving a thread hop per call: the
            // callbacks here only complete futures. Do not block in stages chained on them.
            .directExecutor()
            .keepAliveTime(30, TimeUnit.SECONDS)
            .maxInboundMessageSize(256 * 1024);
    if (config.authority() != null) {
      b.overrideAuthority(config.authority());
    }
    ManagedChannel channel = b.build();
    ReconnectWatcher.watch(channel);
    return new KeyholdClient(config, channel);
  }

  /**
   * The channel's service config: round_robin over the resolved replicas, client-side health
   * checking of {@code keyhold.v1.KeyService} (a replica that is not SERVING gets no calls; needs
   * {@code grpc-services} on the class path, which client-lib brings), and for every method (all
   * idempotent) either retries of UNAVAILABLE on the next replica or, when configured, hedging.
   * gRPC keeps every attempt within the call's deadline.
   */
  static Map<String, Object> serviceConfig(KeyholdClientConfig config) {
    Map<String, Object> sc = new LinkedHashMap<>();
    sc.put("loadBalancingConfig", List.of(Map.of("round_robin", Map.of())));
    if (config.healthCheck()) {
      sc.put("healthCheckConfig", Map.of("serviceName", KeyServiceGrpc.SERVICE_NAME));
    }
    Map<String, Object> method = new LinkedHashMap<>();
    // Every KeyService method is idempotent: Sign and DecryptPremaster are stateless, GetKey and
    // ListKeys read.
    method.put("name", List.of(Map.of("service", KeyServiceGrpc.SERVICE_NAME)));
    if (config.hedgingDelay() != null) {
      method.put(
          "hedgingPolicy",
          Map.of(
              "maxAttempts",
              (double) config.maxAttempts(),
              "hedgingDelay",
              seconds(config.hedgingDelay()),
              "nonFatalStatusCodes",
              List.of("UNAVAILABLE")));
    } else if (config.maxAttempts() > 1) {
      // gRPC rejects a retry policy with maxAttempts 1: then no policy at all means "no retries".
      method.put(
          "retryPolicy",
          Map.of(
              "maxAttempts",
              (double) config.maxAttempts(),
              "initialBackoff",
              "0.02s",
              "maxBackoff",
              "0.2s",
              "backoffMultiplier",
              2.0,
              "retryableStatusCodes",
              List.of("UNAVAILABLE")));
    }
    if (method.size() > 1) {
      sc.put("methodConfig", List.of(method));
    }
    return sc;
  }

  private static String seconds(Duration d) {
    return BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString() + "s";
  }

  public KeyholdClientConfig config() {
    return config;
  }

  /** Calls of this client's stubs waiting for an answer now (bounded by maxInFlight). */
  public int inFlight() {
    return inFlight.current();
  }

  /**
   * The underlying channel, for callers that want their own stubs (calls on it bypass the in-flight
   * bound; {@link #blockingStub()} and {@link #futureStub()} do not).
   */
  public ManagedChannel channel() {
    return channel;
  }

  /**
   * A blocking stub with this client's deadline applied (a new deadline per call of this method).
   */
  public KeyServiceGrpc.KeyServiceBlockingStub blockingStub() {
    return blockingStub.withDeadlineAfter(config.deadline().toNanos(), TimeUnit.NANOSECONDS);
  }

  /** A future stub with this client's deadline applied. */
  public KeyServiceGrpc.KeyServiceFutureStub futureStub() {
    return futureStub.withDeadlineAfter(config.deadline().toNanos(), TimeUnit.NANOSECONDS);
  }

  public static KeyRef ref(String keyName) {
    return KeyRef.newBuilder().setName(keyName).build();
  }

  /** Signs a digest (computed locally with the scheme's hash). */
  public byte[] sign(String keyName, SignatureScheme scheme, byte[] digest)
      throws KeyholdException {
    return join(signAsync(keyName, scheme, digest));
  }

  /** Signs asynchronously; the future completes on a gRPC thread, never blocking the caller. */
  public CompletableFuture<byte[]> signAsync(
      String keyName, SignatureScheme scheme, byte[] digest) {
    SignRequest req =
        SignRequest.newBuilder()
            .setKey(ref(keyName))
            .setScheme(scheme.codePoint())
            .setDigest(ByteString.copyFrom(digest))
            .build();
    return logFailure(
        "sign",
        keyName,
        toCompletable(futureStub().sign(req), r -> r.getSignature().toByteArray()));
  }

  /** Decrypts an RSA-encrypted pre-master secret; always 48 bytes. */
  public byte[] decryptPremaster(String keyName, byte[] ciphertext, int clientVersion)
      throws KeyholdException {
    return join(decryptPremasterAsync(keyName, ciphertext, clientVersion));
  }

  public CompletableFuture<byte[]> decryptPremasterAsync(
      String keyName, byte[] ciphertext, int clientVersion) {
    DecryptPremasterRequest req =
        DecryptPremasterRequest.newBuilder()
            .setKey(ref(keyName))
            .setCiphertext(ByteString.copyFrom(ciphertext))
            .setClientVersion(clientVersion)
            .build();
    reconnectIfFailing();
    return logFailure(
        "decrypt_premaster",
        keyName,
        toCompletable(futureStub().decryptPremaster(req), DecryptPremasterResponse::getPremaster)
            .thenApply(ByteString::toByteArray));
  }

  /** Failed key operations are logged here, rate-limited: app servers hide them. */
  private <T> CompletableFuture<T> logFailure(
      String operation, String keyName, CompletableFuture<T> f) {
    f.whenComplete(
        (r, t) -> {
          if (t != null) {
            OffloadFailureLog.get()
                .report(
                    config.target(),
                    operation,
                    keyName,
                    t instanceof CompletionException ce ? ce.getCause() : t);
          }
        });
    return f;
  }

  /**
   * After the service was down, gRPC waits up to two minutes between reconnects; a key operation (a
   * handshake waiting) is worth an attempt now. At most one per second, so that a service that
   * stays down is not flooded with connection attempts.
   */
  public void reconnectIfFailing() {
    if (channel.getState(false) != ConnectivityState.TRANSIENT_FAILURE) {
      return;
    }
    long now = System.nanoTime();
    long last = lastReconnect.get();
    if (now - last >= RECONNECT_INTERVAL_NANOS && lastReconnect.compareAndSet(last, now)) {
      channel.resetConnectBackoff();
    }
  }

  public KeyInfo getKey(String keyName) throws KeyholdException {
    try {
      return blockingStub().getKey(GetKeyRequest.newBuilder().setKey(ref(keyName)).build());
    } catch (StatusRuntimeException e) {
      throw toException(e);
    }
  }

  public List<KeyInfo> listKeys() throws KeyholdException {
    try {
      return blockingStub().listKeys(ListKeysRequest.getDefaultInstance()).getKeysList();
    } catch (StatusRuntimeException e) {
      throw toException(e);
    }
  }

  private static <T, R> CompletableFuture<R> toCompletable(
      ListenableFuture<T> f, Function<T, R> map) {
    CompletableFuture<R> out = new CompletableFuture<>();
    Futures.addCallback(
        f,
        new FutureCallback<T>() {
          @Override
          public void onSuccess(T result) {
            out.complete(map.apply(result));
          }

          @Override
          public void onFailure(Throwable t) {
            out.completeExceptionally(
                t instanceof StatusRuntimeException sre ? toException(sre) : t);
          }
        },
        MoreExecutors.directExecutor());
    return out;
  }

  private static <T> T join(CompletableFuture<T> f) throws KeyholdException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeyholdException(
          Status.Code.CANCELLED, "", "interrupted while waiting for Keyhold", e);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof KeyholdException ke) {
        throw ke;
      }
      throw new KeyholdException(
          Status.Code.UNKNOWN, "", "Keyhold call failed: " + e.getCause(), e.getCause());
    }
  }

  /** Maps a gRPC failure to a {@link KeyholdException} with the service's reason. */
  public static KeyholdException toException(StatusRuntimeException e) {
    String reason = "";
    com.google.rpc.Status s = StatusProto.fromThrowable(e);
    if (s != null) {
      for (com.google.protobuf.Any any : s.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            reason = any.unpack(ErrorInfo.class).getReason();
          } catch (InvalidProtocolBufferException ignored) {
            // keep the empty reason
          }
        }
      }
    }
    Status st = e.getStatus();
    String msg =
        "Keyhold "
            + st.getCode()
            + (reason.isEmpty() ? "" : " " + reason)
            + ": "
            + (st.getDescription() == null ? "" : st.getDescription());
    return new KeyholdException(st.getCode(), reason, msg, e);
  }

  @Override
  public void close() {
    keyWatcher.close();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      channel.shutdownNow();
    }
  }
}
