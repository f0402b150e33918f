package dev.keyhold.service;

import dev.keyhold.config.ServiceConfig;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.auth.PolicyReloader;
import dev.keyhold.service.grpc.KeyServiceImpl;
import dev.keyhold.service.grpc.RequestGuard;
import dev.keyhold.service.keys.HsmExecutor;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Keystore;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.keys.StaticKeystore;
import dev.keyhold.service.keys.SwappableKeystore;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.ops.CertificateExpiry;
import dev.keyhold.service.ops.MetricsServer;
import dev.keyhold.service.ops.OperationMetrics;
import dev.keyhold.service.ops.ServiceHealth;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.pkcs11.TokenGroup;
import dev.keyhold.service.pkcs11.TokenReport;
import dev.keyhold.service.pkcs11.TokenSupervisor;
import dev.keyhold.service.tls.PremasterDecryptors;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.Gauge;
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
  private final ServiceHealth serviceHealth;
  private final List<TokenSupervisor> supervisors;
  private final java.time.Duration shutdownGrace;
  private final PolicyReloader policy;

  private KeyholdServer(
      Server server,
      HsmExecutor executor,
      AuditLog audit,
      OperationMetrics metrics,
      MetricsServer metricsServer,
      HealthStatusManager health,
      ServiceHealth serviceHealth,
      List<TokenSupervisor> supervisors,
      Keystore keystore,
      java.time.Duration shutdownGrace,
      PolicyReloader policy) {
    this.shutdownGrace = shutdownGrace;
    this.policy = policy;
    this.serviceHealth = serviceHealth;
    this.supervisors = List.copyOf(supervisors);
    this.server = server;
    this.executor = executor;
    this.audit = audit;
    this.metrics = metrics;
    this.metricsServer = metricsServer;
    this.health = health;
    this.keystore = keystore;
  }

  /**
   * The audit sink's settings: {@code audit.onFailure}, and checkpoints signed in the HSM by {@code
   * audit.checkpointKey} with the first scheme that key supports.
   */
  static AuditLog.Options auditOptions(ServiceConfig config, Keystore keystore, Signer signer) {
    dev.keyhold.config.AuditConfig a = config.auditConfig();
    AuditLog.OnFailure onFailure =
        a.onFailure() == dev.keyhold.config.AuditConfig.OnFailure.CONTINUE
            ? AuditLog.OnFailure.CONTINUE
            : AuditLog.OnFailure.REFUSE;
    dev.keyhold.service.ops.AuditCheckpointer checkpointer = null;
    if (a.checkpointKey() != null) {
      HsmKey key =
          keystore
              .byName(a.checkpointKey())
              .orElseThrow(
                  () ->
                      new dev.keyhold.config.ConfigException(
                          "audit.checkpointKey: no key named '"
                              + a.checkpointKey()
                              + "' on the token (keys: "
                              + keystore.all().stream().map(k -> k.description().name()).toList()
                              + ")"));
      dev.keyhold.proto.SignatureScheme scheme = key.description().schemes().get(0);
      checkpointer =
          new dev.keyhold.service.ops.AuditCheckpointer() {
            @Override
            public String keyName() {
              return key.description().name();
            }

            @Override
            public String scheme() {
              return scheme.ianaName();
            }

            @Override
            public byte[] sign(byte[] message) throws java.security.GeneralSecurityException {
              byte[] digest =
                  java.security.MessageDigest.getInstance(scheme.hash().jcaName()).digest(message);
              return signer.sign(key, scheme, digest);
            }
          };
      log.info(
          "audit checkpoints signed by key '{}' ({}) every {} lines or {}",
          a.checkpointKey(),
          scheme.ianaName(),
          a.checkpointLines(),
          a.checkpointInterval());
    }
    return new AuditLog.Options(
        onFailure,
        checkpointer,
        a.checkpointLines(),
        a.checkpointInterval().toMillis(),
        a.maxBytes(),
        a.maxFiles());
  }

  /** Opens the token (or every token of {@code hsm.tokens}) and starts serving. */
  public static KeyholdServer start(ServiceConfig config) throws IOException {
    List<Pkcs11Token> tokens = new java.util.ArrayList<>();
    for (dev.keyhold.config.HsmConfig member : config.hsm().members()) {
      Pkcs11Token token = Pkcs11Token.openAtStart(member);
      logTokenReport(member, token.slot());
      tokens.add(token);
    }
    return start(config, tokens, true, UnaryOperator.identity());
  }

  /**
   * Starts serving an HA group of open tokens (each with {@code config.hsm()}'s settings and its
   * own module, token and PIN). The tokens stay logged in when the server closes.
   */
  public static KeyholdServer start(
      ServiceConfig config, List<Pkcs11Token> tokens, UnaryOperator<HsmKey> decorator)
      throws IOException {
    return start(config, tokens, false, decorator);
  }

  /** The start-up report of what the token offers; a failure to ask is a warning, not fatal. */
  private static void logTokenReport(dev.keyhold.config.HsmConfig hsm, long slot) {
    try {
      TokenReport.of(hsm, slot, System.getenv()).log(hsm, slot);
    } catch (RuntimeException e) {
      log.warn("cannot list the mechanisms of {}: {}", hsm.describeToken(), e.getMessage());
    }
  }

  /**
   * Starts serving the keys of an open token. {@code decorator} wraps each key (tests use it to
   * slow the HSM down on purpose); production passes the identity. The token stays logged in when
   * the server closes: its opener owns it.
   */
  public static KeyholdServer start(
      ServiceConfig config, Pkcs11Token token, UnaryOperator<HsmKey> decorator) throws IOException {
    return start(config, List.of(token), false, decorator);
  }

  private static KeyholdServer start(
      ServiceConfig config,
      List<Pkcs11Token> tokens,
      boolean ownsToken,
      UnaryOperator<HsmKey> decorator)
      throws IOException {
    OperationMetrics metrics = new OperationMetrics();
    HealthStatusManager health = new HealthStatusManager();
    ServiceHealth serviceHealth =
        new ServiceHealth(health, List.of(KeyServiceGrpc.SERVICE_NAME), metrics);
    List<TokenSupervisor> supervisors = new java.util.ArrayList<>();
    List<HsmKey> served;
    if (tokens.size() == 1) {
      dev.keyhold.config.HsmConfig c = tokens.get(0).config();
      dev.keyhold.config.HsmConfig member =
          config.hsm().tokens().isEmpty()
              ? config.hsm()
              : config.hsm().forToken(c.library(), c.tokenLabel(), c.slot(), c.pin());
      String tokenName = tokenName(member);
      TokenSupervisor supervisor =
          new TokenSupervisor(tokenName, tokens.get(0), member, ownsToken, serviceHealth);
      supervisors.add(supervisor);
      serviceHealth.track(tokenName, supervisor.state());
      served = supervisor.keys();
    } else {
      java.util.Set<String> names = new java.util.HashSet<>();
      for (Pkcs11Token t : tokens) {
        dev.keyhold.config.HsmConfig c = t.config();
        dev.keyhold.config.HsmConfig member =
            config.hsm().forToken(c.library(), c.tokenLabel(), c.slot(), c.pin());
        String name = tokenName(member);
        for (int i = 2; !names.add(name); i++) {
          name = tokenName(member) + "#" + i;
        }
        TokenSupervisor supervisor = new TokenSupervisor(name, t, member, ownsToken, serviceHealth);
        supervisors.add(supervisor);
        serviceHealth.track(name, supervisor.state());
      }
      TokenGroup group;
      try {
        group = new TokenGroup(supervisors, metrics.registry());
      } catch (RuntimeException e) {
        supervisors.forEach(TokenSupervisor::close);
        throw e;
      }
      serviceHealth.requireEveryKey(group::servesEveryKey);
      served = group.keys();
    }
    List<HsmKey> keys = served.stream().map(k -> decorator.apply(k)).toList();
    SwappableKeystore keystore = new SwappableKeystore(new StaticKeystore(keys));
    CertificateExpiry.watch(
        keys.stream().map(HsmKey::description).toList(),
        config.expiryWarningDays(),
        metrics.registry(),
        java.time.Clock.systemUTC());
    Signer signer = new Signer(config.hsm().verifySignatures());
    AuditLog audit = AuditLog.open(config.audit(), auditOptions(config, keystore, signer));
    HsmExecutor executor =
        new HsmExecutor(
            config.hsm().sessions(), config.hsm().queue(), config.hsm().maxStuckThreads());
    executor.onStuckChange(n -> serviceHealth.stuck(n >= executor.maxStuckThreads()));
    Gauge.builder("keyhold.hsm.stuck.threads", executor, HsmExecutor::stuckThreads)
        .description("HSM executor threads still in a PKCS#11 call past their caller's deadline")
        .register(metrics.registry());
    Gauge.builder("keyhold.hsm.threads", executor, HsmExecutor::liveThreads)
        .description("HSM executor threads alive (each runs PKCS#11 calls on its own session)")
        .register(metrics.registry());
    PolicyReloader policy = new PolicyReloader(new Policy(config.policy()), metrics);
    KeyServiceImpl api =
        new KeyServiceImpl(
            keystore,
            policy::current,
            executor,
            new PremasterDecryptors(config.hsm().decryptMode()),
            signer,
            audit,
            metrics);

    SslContext ssl =
        GrpcSslContexts.configure(
                SslContextBuilder.forServer(
                    config.tls().certChain().toFile(), config.tls().privateKey().toFile()))
            .trustManager(config.tls().clientCa().toFile())
            .clientAuth(ClientAuth.REQUIRE)
            .protocols("TLSv1.3")
            .build();
    if (supervisors.size() == 1) { // an HA group's keys are matched once, at start
      watchKeys(config, supervisors.get(0), keystore, decorator, metrics);
    }
    ServiceConfig.HostPort listen = config.listenAddress();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(listen.host(), listen.port()))
            .sslContext(ssl)
            .directExecutor()
            .maxInboundMessageSize(RequestGuard.transportLimit(config.maxMessageBytes()))
            .maxConnectionAge(config.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
            .maxConnectionAgeGrace(30, TimeUnit.SECONDS)
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .intercept(new AuthInterceptor())
            .addService(
                RequestGuard.guard(api.bindService(), config.maxMessageBytes(), audit, metrics))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build()
            .start();

    MetricsServer metricsServer = null;
    if (config.metricsListen() != null) {
      ServiceConfig.HostPort m =
          ServiceConfig.HostPort.parse(config.metricsListen(), "metrics.listen");
      metricsServer = new MetricsServer(m.host(), m.port(), metrics, serviceHealth::ready);
      // The bound port, so that "metrics.listen: HOST:0" can be found (as the gRPC port below).
      log.info("Keyhold metrics listening on {}:{}", m.host(), metricsServer.port());
    }
    KeyholdServer ks =
        new KeyholdServer(
            server,
            executor,
            audit,
            metrics,
            metricsServer,
            health,
            serviceHealth,
            supervisors,
            keystore,
            config.shutdownGrace(),
            policy);
    log.info(
        "Keyhold listening on {}:{} (mTLS, TLS 1.3) with {} HSM sessions; keys: {}",
        listen.host(),
        server.getPort(),
        executor.threads(),
        keys.stream().map(k -> k.description().toString()).toList());
    return ks;
  }

  /**
   * Re-scans the token every {@code keys.rescanInterval} and serves what it finds: renewed
   * certificates and names moved to other keys, counted in {@code keyhold.keys.changed}.
   */
  private static void watchKeys(
      ServiceConfig config,
      TokenSupervisor supervisor,
      SwappableKeystore keystore,
      UnaryOperator<HsmKey> decorator,
      OperationMetrics metrics) {
    io.micrometer.core.instrument.Counter changes =
        io.micrometer.core.instrument.Counter.builder("keyhold.keys.changed")
            .description(
                "Keys a token re-scan found renewed, moved to another key, added or removed")
            .register(metrics.registry());
    supervisor.rescanEvery(
        config.rescanInterval(),
        (all, changed) -> {
          keystore.swap(new StaticKeystore(all.stream().map(decorator).toList()));
          changes.increment(changed);
        });
  }

  /** The token's name in logs and metrics: its label, or "slot-N". */
  private static String tokenName(dev.keyhold.config.HsmConfig hsm) {
    return hsm.tokenLabel() != null && !hsm.tokenLabel().isBlank()
        ? hsm.tokenLabel()
        : "slot-" + hsm.slot();
  }

  /** What health checks are told. */
  public ServiceHealth health() {
    return serviceHealth;
  }

  /** The (first) token's supervisor: its state and generation. */
  public TokenSupervisor token() {
    return supervisors.get(0);
  }

  /** Every token's supervisor, in configuration order (one unless {@code hsm.tokens}). */
  public List<TokenSupervisor> tokens() {
    return supervisors;
  }

  /**
   * The authorization policy in force and its reloads: {@link PolicyReloader#reload} re-reads the
   * policy from a config file, {@link PolicyReloader#watch} does so whenever the file changes.
   */
  public PolicyReloader policy() {
    return policy;
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

  /**
   * Stops gracefully: NOT_SERVING in health first, then no new calls (new streams are refused with
   * UNAVAILABLE before they are accepted), in-flight calls finish within {@code shutdownGrace},
   * then the HSM threads stop, the token's sessions are let go and it is logged out, the audit log
   * is flushed.
   */
  @Override
  public void close() {
    serviceHealth.shuttingDown();
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("in-flight calls did not finish within {}: cancelling them", shutdownGrace);
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    policy.close();
    executor.close();
    supervisors.forEach(TokenSupervisor::close);
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
