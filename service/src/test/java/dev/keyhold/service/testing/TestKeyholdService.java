package dev.keyhold.service.testing;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.PolicyRule;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.config.TlsConfig;
import dev.keyhold.service.KeyholdServer;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.ops.OperationMetrics;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.setup.PkiDirectory;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A real Keyhold service for integration tests: the JVM's SoftHSM token ({@link TestHsm}), mTLS on
 * an ephemeral loopback port, and this policy: {@code test-client} may do everything with every
 * key; {@code limited-client} may only sign with {@code ec-*} keys; {@code other-client} may do
 * nothing.
 *
 * <pre>{@code
 * try (TestKeyholdService svc = TestKeyholdService.start()) {
 *   ManagedChannel ch = svc.channel("test-client");
 *   ...
 * }
 * }</pre>
 */
public final class TestKeyholdService implements AutoCloseable {
  private static final AtomicInteger N = new AtomicInteger();

  public static final List<PolicyRule> DEFAULT_POLICY =
      List.of(
          new PolicyRule("test-client", List.of("*"), Set.of("sign", "decrypt_premaster")),
          new PolicyRule("limited-client", List.of("ec-*"), Set.of("sign")));

  private final TestHsm hsm;
  private final KeyholdServer server;
  private final Path auditFile;

  private TestKeyholdService(TestHsm hsm, KeyholdServer server, Path auditFile) {
    this.hsm = hsm;
    this.server = server;
    this.auditFile = auditFile;
  }

  public static TestKeyholdService start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options for a test service. */
  public static final class Builder {
    private int sessions = 4;
    private int queue = 0;
    private List<PolicyRule> policy = DEFAULT_POLICY;
    private UnaryOperator<HsmKey> decorator = UnaryOperator.identity();
    private HsmConfig.DecryptMode decryptMode = HsmConfig.DecryptMode.RAW;
    private int port = 0;
    private Pkcs11Token token;
    private Duration probeInterval;
    private Duration probeTimeout;
    private List<Pkcs11Token> group = List.of();
    private int maxStuckThreads;
    private boolean metrics;
    private Duration shutdownGrace;
    private Duration rescanInterval = ServiceConfig.DEFAULT_RESCAN_INTERVAL;
    private HsmConfig.VerifyMode verifySignatures = HsmConfig.VerifyMode.ALL;
    private boolean noRawRsaToken;
    private Path auditFile;
    private dev.keyhold.config.AuditConfig auditConfig = dev.keyhold.config.AuditConfig.DEFAULT;

    /** The audit file (default: a fresh one beside the token). */
    public Builder auditFile(Path file) {
      this.auditFile = file;
      return this;
    }

    /** The audit settings (failure handling, checkpoints). */
    public Builder audit(dev.keyhold.config.AuditConfig config) {
      this.auditConfig = config;
      return this;
    }

    public Builder sessions(int sessions) {
      this.sessions = sessions;
      return this;
    }

    public Builder queue(int queue) {
      this.queue = queue;
      return this;
    }

    public Builder policy(List<PolicyRule> policy) {
      this.policy = policy;
      return this;
    }

    /**
     * Wraps every key, e.g. {@link SlowKey.Control#decorator()} to make the HSM slow on purpose.
     */
    public Builder decorator(UnaryOperator<HsmKey> decorator) {
      this.decorator = decorator;
      return this;
    }

    public Builder decryptMode(HsmConfig.DecryptMode mode) {
      this.decryptMode = mode;
      return this;
    }

    /**
     * Serves the {@link TestHsm#NO_RAW_RSA_TOKEN_LABEL} token (one RSA key that forbids raw RSA)
     * instead of the standard one.
     */
    public Builder noRawRsaToken() {
      this.noRawRsaToken = true;
      return this;
    }

    /** A fixed port (e.g. to restart a service where clients expect it); 0 picks one. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * Serves the keys of this token instead of the JVM's shared one, e.g. {@link
     * FaultShim#openToken()} to put the fault shim between the service and SoftHSM.
     */
    public Builder token(Pkcs11Token token) {
      this.token = token;
      return this;
    }

    /** How often the token is probed (default: the configuration's 5 s). */
    public Builder probeInterval(Duration interval) {
      this.probeInterval = interval;
      return this;
    }

    /** How many HSM threads may be stuck before the service refuses calls (0: the default). */
    /**
     * Serves an HA group of these open tokens (each supervised on its own; the first one's module,
     * label and PIN stand in the service's {@code hsm} section). They stay logged in at close.
     */
    public Builder tokens(List<Pkcs11Token> tokens) {
      this.group = List.copyOf(tokens);
      return this;
    }

    /** How long one probe may take (default: the probe interval). */
    public Builder probeTimeout(Duration timeout) {
      this.probeTimeout = timeout;
      return this;
    }

    public Builder maxStuckThreads(int n) {
      this.maxStuckThreads = n;
      return this;
    }

    /** Also serve {@code /metrics}, {@code /livez} and {@code /readyz} on a loopback port. */
    public Builder metrics(boolean on) {
      this.metrics = on;
      return this;
    }

    /** {@code keys.rescanInterval}: how often the token is re-read (default 10 s; 0: never). */
    public Builder rescanInterval(Duration interval) {
      this.rescanInterval = interval;
      return this;
    }

    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = grace;
      return this;
    }

    /** {@code hsm.verifySignatures}: which signatures are checked before they are returned. */
    public Builder verifySignatures(HsmConfig.VerifyMode mode) {
      this.verifySignatures = mode;
      return this;
    }

    public TestKeyholdService start() {
      TestHsm hsm = TestHsm.shared();
      PkiDirectory pki = hsm.pki();
      Path audit =
          auditFile != null
              ? auditFile
              : hsm.root().resolve("audit-" + N.incrementAndGet() + ".log");
      Pkcs11Token served =
          !group.isEmpty()
              ? group.get(0)
              : token != null ? token : noRawRsaToken ? hsm.noRawRsaToken() : hsm.token();
      HsmConfig base = served.config();
      HsmConfig h =
          new HsmConfig(
              base.library(),
              base.tokenLabel(),
              base.slot(),
              base.pin(),
              sessions,
              queue,
              decryptMode,
              base.profile(),
              verifySignatures,
              probeInterval,
              maxStuckThreads,
              null,
              probeTimeout,
              null);
      ServiceConfig cfg =
          new ServiceConfig(
              "127.0.0.1:" + port,
              new TlsConfig(pki.cert("server"), pki.key("server"), pki.caCert()),
              h,
              policy,
              audit,
              metrics ? "127.0.0.1:0" : null,
              16 * 1024,
              Duration.ofMinutes(30),
              shutdownGrace,
              ServiceConfig.DEFAULT_EXPIRY_WARNING_DAYS,
              auditConfig,
              rescanInterval);
      try {
        KeyholdServer server =
            group.isEmpty()
                ? KeyholdServer.start(cfg, served, decorator)
                : KeyholdServer.start(cfg, group, decorator);
        return new TestKeyholdService(hsm, server, audit);
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the test service: " + e.getMessage(), e);
      }
    }
  }

  public int port() {
    return server.port();
  }

  /**
   * The port of {@code /metrics}, {@code /livez} and {@code /readyz}; -1 without {@link
   * Builder#metrics}.
   */
  public int metricsPort() {
    return server.metricsPort();
  }

  /** "127.0.0.1:PORT". */
  public String target() {
    return "127.0.0.1:" + port();
  }

  public OperationMetrics metrics() {
    return server.metrics();
  }

  public KeyholdServer server() {
    return server;
  }

  public Path auditFile() {
    return auditFile;
  }

  public PkiDirectory pki() {
    return hsm.pki();
  }

  public TestHsm hsm() {
    return hsm;
  }

  /** CA certificate (PEM) that signed the service's and the clients' certificates. */
  public Path caCert() {
    return hsm.pki().caCert();
  }

  /** Client certificate (PEM) for one of test-client, limited-client, other-client. */
  public Path clientCert(String client) {
    return hsm.pki().cert(client);
  }

  /** Client private key (PKCS#8 PEM). */
  public Path clientKey(String client) {
    return hsm.pki().key(client);
  }

  /** A plain gRPC channel with mTLS as {@code client}; the caller closes it. */
  public ManagedChannel channel(String client) {
    try {
      SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(caCert().toFile());
      if (client != null) {
        ssl.keyManager(clientCert(client).toFile(), clientKey(client).toFile());
      }
      return NettyChannelBuilder.forAddress("127.0.0.1", port())
          .overrideAuthority("localhost")
          .sslContext(ssl.build())
          .build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
