package dev.keyhold.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The whole configuration of a Keyhold service, as read from its YAML file by {@link ConfigLoader}.
 * Relative paths are resolved against the file's folder.
 *
 * @param listen host:port to serve gRPC on (e.g. {@code 127.0.0.1:8443})
 * @param tls the service's mTLS material
 * @param hsm the token
 * @param policy who may use which key for what; empty means nobody may
 * @param audit where the hash-chained audit log goes
 * @param metricsListen host:port for the Prometheus endpoint, or null for none
 * @param maxMessageBytes the largest request accepted
 * @param maxConnectionAge how long a client connection lives before the server asks it to
 *     reconnect, so that new replicas are picked up
 * @param shutdownGrace how long in-flight calls may take to finish after SIGTERM
 * @param expiryWarningDays how many days before a key's certificate expires the service warns
 * @param auditConfig failure handling, checkpoints and rotation of the audit log
 * @param rescanInterval how often the token is re-read for renewed certificates and keys moved to a
 *     new name ({@code keys.rescanInterval}); zero turns the re-scan off
 */
public record ServiceConfig(
    String listen,
    TlsConfig tls,
    HsmConfig hsm,
    List<PolicyRule> policy,
    Path audit,
    String metricsListen,
    int maxMessageBytes,
    Duration maxConnectionAge,
    Duration shutdownGrace,
    int expiryWarningDays,
    AuditConfig auditConfig,
    Duration rescanInterval) {

  /** The default number of days before expiry at which the service starts warning. */
  public static final int DEFAULT_EXPIRY_WARNING_DAYS = 30;

  /** The default interval of the token re-scan ({@code keys.rescanInterval}). */
  public static final Duration DEFAULT_RESCAN_INTERVAL = Duration.ofSeconds(10);

  /** As the canonical constructor, with the default re-scan interval. */
  public ServiceConfig(
      String listen,
      TlsConfig tls,
      HsmConfig hsm,
      List<PolicyRule> policy,
      Path audit,
      String metricsListen,
      int maxMessageBytes,
      Duration maxConnectionAge,
      Duration shutdownGrace,
      int expiryWarningDays,
      AuditConfig auditConfig) {
    this(
        listen,
        tls,
        hsm,
        policy,
        audit,
        metricsListen,
        maxMessageBytes,
        maxConnectionAge,
        shutdownGrace,
        expiryWarningDays,
        auditConfig,
        DEFAULT_RESCAN_INTERVAL);
  }

  /** As the canonical constructor, with the default shutdown grace, expiry warning and audit. */
  public ServiceConfig(
      String listen,
      TlsConfig tls,
      HsmConfig hsm,
      List<PolicyRule> policy,
      Path audit,
      String metricsListen,
      int maxMessageBytes,
      Duration maxConnectionAge) {
    this(
        listen,
        tls,
        hsm,
        policy,
        audit,
        metricsListen,
        maxMessageBytes,
        maxConnectionAge,
        null,
        DEFAULT_EXPIRY_WARNING_DAYS,
        AuditConfig.DEFAULT);
  }

  public ServiceConfig {
    if (auditConfig == null) {
      auditConfig = AuditConfig.DEFAULT;
    }
    if (listen == null || listen.isBlank()) {
      listen = "127.0.0.1:8443";
    }
    HostPort.parse(listen, "listen");
    if (metricsListen != null) {
      HostPort.parse(metricsListen, "metrics.listen");
    }
    if (tls == null) {
      throw new ConfigException("tls is required: mTLS is not optional");
    }
    if (hsm == null) {
      throw new ConfigException("hsm is required");
    }
    policy = policy == null ? List.of() : List.copyOf(policy);
    if (maxMessageBytes <= 0) {
      maxMessageBytes = 16 * 1024;
    }
    if (maxConnectionAge == null) {
      maxConnectionAge = Duration.ofMinutes(30);
    }
    if (shutdownGrace == null) {
      shutdownGrace = Duration.ofSeconds(10);
    }
    if (shutdownGrace.isNegative()) {
      throw new ConfigException("shutdownGrace must not be negative");
    }
    if (expiryWarningDays < 0) {
      throw new ConfigException("keys.expiryWarningDays must be >= 0 (0 turns the warning off)");
    }
    if (rescanInterval == null) {
      rescanInterval = DEFAULT_RESCAN_INTERVAL;
    }
    if (rescanInterval.isNegative()) {
      throw new ConfigException(
          "keys.rescanInterval must not be negative (0 turns the re-scan off)");
    }
  }

  /** The parsed listen address. */
  public HostPort listenAddress() {
    return HostPort.parse(listen, "listen");
  }

  /** The YAML shape of the file, before relative paths are resolved. */
  record Raw(
      String listen,
      Integer maxMessageBytes,
      Duration maxConnectionAge,
      Duration shutdownGrace,
      TlsConfig tls,
      HsmConfig hsm,
      AuditSection audit,
      MetricsSection metrics,
      KeysSection keys,
      List<PolicyRule> policy) {

    ServiceConfig resolveAgainst(Path base) {
      if (tls == null) {
        throw new ConfigException("tls is required: mTLS is not optional");
      }
      if (hsm == null) {
        throw new ConfigException("hsm is required");
      }
      TlsConfig t =
          new TlsConfig(
              base.resolve(tls.certChain()),
              base.resolve(tls.privateKey()),
              base.resolve(tls.clientCa()));
      PinSource pin =
          hsm.pin().file() != null ? PinSource.ofFile(base.resolve(hsm.pin().file())) : hsm.pin();
      HsmConfig h =
          new HsmConfig(
              base.resolve(hsm.library()),
              hsm.tokenLabel(),
              hsm.slot(),
              pin,
              hsm.sessions(),
              hsm.queue(),
              hsm.decryptMode(),
              hsm.profile(),
              hsm.verifySignatures(),
              hsm.probeInterval(),
              hsm.maxStuckThreads(),
              hsm.badPaddingCodes(),
              hsm.probeTimeout(),
              hsm.tokens().stream()
                  .map(
                      ref ->
                          new TokenRef(
                              ref.library() == null ? null : base.resolve(ref.library()),
                              ref.tokenLabel(),
                              ref.slot(),
                              ref.pin() != null && ref.pin().file() != null
                                  ? PinSource.ofFile(base.resolve(ref.pin().file()))
                                  : ref.pin()))
                  .toList());
      Path auditFile = audit == null || audit.file() == null ? null : base.resolve(audit.file());
      return new ServiceConfig(
          listen,
          t,
          h,
          policy,
          auditFile,
          metrics == null ? null : metrics.listen(),
          maxMessageBytes == null ? 0 : maxMessageBytes,
          maxConnectionAge,
          shutdownGrace,
          keys == null || keys.expiryWarningDays() == null
              ? DEFAULT_EXPIRY_WARNING_DAYS
              : keys.expiryWarningDays(),
          audit == null
              ? AuditConfig.DEFAULT
              : new AuditConfig(
                  audit.onFailure(),
                  audit.checkpointKey(),
                  audit.checkpointInterval(),
                  audit.checkpointLines(),
                  audit.maxBytes(),
                  audit.maxFiles()),
          keys == null ? null : keys.rescanInterval());
    }
  }

  /** {@code audit:} where the audit log goes, failure handling and checkpoints. */
  record AuditSection(
      Path file,
      AuditConfig.OnFailure onFailure,
      String checkpointKey,
      Duration checkpointInterval,
      Long checkpointLines,
      Long maxBytes,
      Integer maxFiles) {}

  /** {@code metrics:} where Prometheus scrapes. */
  record MetricsSection(String listen) {}

  /** {@code keys:} settings about the served keys. */
  record KeysSection(Integer expiryWarningDays, Duration rescanInterval) {}

  /** A host and port, parsed from {@code host:port} or {@code [v6]:port}. */
  public record HostPort(String host, int port) {
    public static HostPort parse(String value, String field) {
      int colon = value.lastIndexOf(':');
      if (colon <= 0) {
        throw new ConfigException(field + ": '" + value + "' is not host:port");
      }
      String host = value.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(value.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new ConfigException(field + ": port in '" + value + "' is not a number");
      }
      if (port < 0 || port > 65535) {
        throw new ConfigException(field + ": port " + port + " is out of range");
      }
      return new HostPort(host, port);
    }

    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }
}
