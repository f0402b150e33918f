package dev.keyhold.client.rpc;

import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC peer with the service's mTLS identity whose standard health service reports {@code
 * keyhold.v1.KeyService} as NOT_SERVING, as a replica with a failed HSM does; it serves no
 * KeyService, and counts the KeyService calls that reach it and the health watches.
 */
final class NotServingReplica implements AutoCloseable {
  final AtomicInteger keyCalls = new AtomicInteger();
  final AtomicInteger healthWatches = new AtomicInteger();
  private final Server server;

  NotServingReplica(TestKeyholdService like) throws IOException {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("dev.keyhold.unused", ServingStatus.SERVING);
    health.setStatus("keyhold.v1.KeyService", ServingStatus.NOT_SERVING);
    ServerInterceptor counting =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            String service = call.getMethodDescriptor().getServiceName();
            if ("grpc.health.v1.Health".equals(service)) {
              healthWatches.incrementAndGet();
            }
            return next.startCall(call, headers);
          }
        };
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(
                GrpcSslContexts.configure(
                        SslContextBuilder.forServer(
                            like.pki().cert("server").toFile(), like.pki().key("server").toFile()))
                    .trustManager(like.caCert().toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .protocols("TLSv1.3")
                    .build())
            .addService(ServerInterceptors.intercept(health.getHealthService(), counting))
            // KeyService is not registered: its calls reach this fallback, are counted, and
            // answered UNIMPLEMENTED (server interceptors never see unregistered methods).
            .fallbackHandlerRegistry(
                new HandlerRegistry() {
                  @Override
                  public ServerMethodDefinition<?, ?> lookupMethod(
                      String method, String authority) {
                    if (method.startsWith("keyhold.v1.KeyService/")) {
                      keyCalls.incrementAndGet();
                    }
                    return null;
                  }
                })
            .build()
            .start();
  }

  int port() {
    return server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }
}
