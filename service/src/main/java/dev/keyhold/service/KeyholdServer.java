package dev.keyhold.service;

import dev.keyhold.config.ServiceConfig;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.grpc.KeyServiceImpl;
import dev.keyhold.service.keys.HsmExecutor;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Keystore;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.keys.StaticKeystore;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.ops.CertificateExpiry;
import dev.keyhold.service.ops.MetricsServer;
import dev.keyhold.service.ops.OperationMetrics;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.tls.PremasterDecryptors;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Keyhold service: the token, its keys, the gRPC server with mTLS (TLS 1.3, client
 * certificate required), health and reflection, the audit log and metrics.
 */
public final class KeyholdServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyholdServer.class);

  private final Server server;
  private final HsmExecutor executor;
  private final AuditLog audit;
  private final OperationMetrics metrics;
  private final MetricsServer metricsServer;
  private final HealthStatusManager health;
  private final Keystore keystore;

  private KeyholdServer(
      Server server,
      HsmExecutor executor,
      AuditLog audit,
      OperationMetrics metrics,
      MetricsServer metricsServer,
      HealthStatusManager health,
      Keystore keystore) {
    this.server = server;
    this.executor = executor;
    this.audit = audit;
    this.metrics = metrics;
    this.metricsServer = metricsServer;
    this.health = health;
    this.keystore = keystore;
  }

  /** Opens the token and starts serving. */
  public static KeyholdServer start(ServiceConfig config) throws IOException {
    return start(config, Pkcs11Token.open(config.hsm()), UnaryOperator.identity());
  }

  /**
   * Starts serving the keys of an open token. {@code decorator} wraps each key (tests use it to
   * slow the HSM down on purpose); production passes the identity.
   */
  public static KeyholdServer start(
      ServiceConfig config, Pkcs11Token token, UnaryOperator<HsmKey> decorator) throws IOException {
    List<HsmKey> keys = token.discoverKeys().stream().map(k -> decorator.apply(k)).toList();
    Keystore keystore = new StaticKeystore(keys);
    OperationMetrics metrics = new OperationMetrics();
    CertificateExpiry.watch(
        keys.stream().map(HsmKey::description).toList(),
        config.expiryWarningDays(),
        metrics.registry(),
        java.time.Clock.systemUTC());
    AuditLog audit = AuditLog.open(config.audit());
    HsmExecutor executor = new HsmExecutor(config.hsm().sessions(), config.hsm().queue());
    KeyServiceImpl api =
        new KeyServiceImpl(
            keystore,
            new Policy(config.policy()),
            executor,
            new PremasterDecryptors(config.hsm().decryptMode()),
            new Signer(config.hsm().verifySignatures()),
            audit,
            metrics);
    HealthStatusManager health = new HealthStatusManager();

    SslContext ssl =
        GrpcSslContexts.configure(
                SslContextBuilder.forServer(
                    config.tls().certChain().toFile(), config.tls().privateKey().toFile()))
            .trustManager(config.tls().clientCa().toFile())
            .clientAuth(ClientAuth.REQUIRE)
            .protocols("TLSv1.3")
            .build();
    ServiceConfig.HostPort listen = config.listenAddress();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(listen.host(), listen.port()))
            .sslContext(ssl)
            .directExecutor()
            .maxInboundMessageSize(config.maxMessageBytes())
            .maxConnectionAge(config.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
            .maxConnectionAgeGrace(30, TimeUnit.SECONDS)
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .intercept(new AuthInterceptor())
            .addService(ServerInterceptors.intercept(api))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build()
            .start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(KeyServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);

    MetricsServer metricsServer = null;
    if (config.metricsListen() != null) {
      ServiceConfig.HostPort m =
          ServiceConfig.HostPort.parse(config.metricsListen(), "metrics.listen");
      metricsServer = new MetricsServer(m.host(), m.port(), metrics, () -> true);
    }
    KeyholdServer ks =
        new KeyholdServer(server, executor, audit, metrics, metricsServer, health, keystore);
    log.info(
        "Keyhold listening on {}:{} (mTLS, TLS 1.3) with {} HSM sessions; keys: {}",
        listen.host(),
        server.getPort(),
        executor.threads(),
        keys.stream().map(k -> k.description().toString()).toList());
    return ks;
  }

  public int port() {
    return server.getPort();
  }

  public OperationMetrics metrics() {
    return metrics;
  }

  public List<KeyDescription> keys() {
    return keystore.all().stream().map(HsmKey::description).toList();
  }

  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.port();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    executor.close();
    if (metricsServer != null) {
      metricsServer.close();
    }
    try {
      audit.close();
    } catch (IOException e) {
      log.warn("closing the audit log failed: {}", e.getMessage());
    }
  }
}
