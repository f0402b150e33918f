package dev.keyhold.client.rpc;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How to reach a Keyhold service: target(s), mTLS material, deadline, retries, hedging and the
 * in-flight bound. Immutable; build with {@link #builder()}, change with {@link #toBuilder()}.
 *
 * <p>Several replicas: {@link Builder#targets(List)} (or {@code target("h1:p1,h2:p2")}) for a
 * static address list, or {@code target("dns:///name:port")} for every address a DNS name resolves
 * to. The channel balances round-robin over them, skips replicas whose {@code grpc.health.v1}
 * status for {@code keyhold.v1.KeyService} is not {@code SERVING}, and retries {@code UNAVAILABLE}
 * on the next replica within the call's deadline.
 *
 * <p>Security note: the client's private key is a PEM file for the channel's mTLS only; it is not
 * one of the keys Keyhold serves.
 */
public final class KeyholdClientConfig {
  private final List<String> targets;
  private final Path trustedCa;
  private final Path clientCertificate;
  private final Path clientKey;
  private final Duration deadline;
  private final int maxAttempts;
  private final String authority;
  private final Duration hedgingDelay;
  private final int maxInFlight;
  private final boolean healthCheck;
  private final Duration keyRefreshInterval;

  private KeyholdClientConfig(Builder b) {
    if (b.targets == null || b.targets.isEmpty()) {
      throw new NullPointerException("target");
    }
    this.targets = List.copyOf(b.targets);
    this.trustedCa = Objects.requireNonNull(b.trustedCa, "trustedCa");
    this.clientCertificate = Objects.requireNonNull(b.clientCertificate, "clientCertificate");
    this.clientKey = Objects.requireNonNull(b.clientKey, "clientKey");
    this.deadline = b.deadline;
    this.maxAttempts = b.maxAttempts;
    this.authority = b.authority;
    this.hedgingDelay = b.hedgingDelay;
    this.maxInFlight = b.maxInFlight;
    this.healthCheck = b.healthCheck;
    this.keyRefreshInterval = b.keyRefreshInterval;
  }

  /** The default of {@link #keyRefreshInterval()}. */
  public static final Duration DEFAULT_KEY_REFRESH_INTERVAL = Duration.ofSeconds(30);

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The gRPC target the channel is built for: the single target as given ({@code host:port}, {@code
   * dns:///name:port}, any registered scheme), or {@code static:///h1:p1,h2:p2} for a list.
   */
  public String target() {
    return targets.size() == 1 ? targets.get(0) : StaticNameResolverProvider.target(targets);
  }

  /** The targets as configured: one target, or the {@code host:port} addresses of a static list. */
  public List<String> targets() {
    return targets;
  }

  public Path trustedCa() {
    return trustedCa;
  }

  public Path clientCertificate() {
    return clientCertificate;
  }

  public Path clientKey() {
    return clientKey;
  }

  /** Deadline of every call, all its attempts (retries, hedges) included. */
  public Duration deadline() {
    return deadline;
  }

  /**
   * Attempts per call: retries of UNAVAILABLE on another replica, or hedged attempts (sign and
   * decrypt are idempotent). 1 turns retries off.
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** TLS authority override (the name the service certificate must carry), or null. */
  public String authority() {
    return authority;
  }

  /**
   * Hedging: when non-null, a call that has no answer after this delay is sent again to another
   * replica (up to {@link #maxAttempts()} in all) and the first answer wins; replaces the retry
   * policy. Null (the default): no hedging.
   */
  public Duration hedgingDelay() {
    return hedgingDelay;
  }

  /**
   * Calls this client lets wait for an answer at once; one more fails at once with {@link
   * KeyholdException#REASON_IN_FLIGHT_LIMIT}.
   */
  public int maxInFlight() {
    return maxInFlight;
  }

  /** Whether the channel skips replicas whose gRPC health is not SERVING (default true). */
  public boolean healthCheck() {
    return healthCheck;
  }

  /**
   * How often key managers, the key store and Netty contexts built on this client ask the service
   * ({@code GetKey}) whether a key they serve changed (a renewed certificate, a name moved to
   * another key), and switch to the new chain for the next handshake. Zero: never (default 30 s).
   */
  public Duration keyRefreshInterval() {
    return keyRefreshInterval;
  }

  public Builder toBuilder() {
    return new Builder()
        .targets(targets)
        .trustedCa(trustedCa)
        .clientCertificate(clientCertificate, clientKey)
        .deadline(deadline)
        .maxAttempts(maxAttempts)
        .authority(authority)
        .hedgingDelay(hedgingDelay)
        .maxInFlight(maxInFlight)
        .healthCheck(healthCheck)
        .keyRefreshInterval(keyRefreshInterval);
  }

  /** Builder; a target, {@code trustedCa} and the client certificate are required. */
  public static final class Builder {
    private List<String> targets;
    private Path trustedCa;
    private Path clientCertificate;
    private Path clientKey;
    private Duration deadline = Duration.ofSeconds(2);
    private int maxAttempts = 3;
    private String authority;
    private Duration hedgingDelay;
    private int maxInFlight = 1024;
    private boolean healthCheck = true;
    private Duration keyRefreshInterval = DEFAULT_KEY_REFRESH_INTERVAL;

    /**
     * One gRPC target ({@code host:port}, {@code dns:///name:port}, {@code static:///h1:p1,h2:p2})
     * or a comma-separated list of {@code host:port} addresses, as in a properties file.
     */
    public Builder target(String target) {
      if (target == null) {
        this.targets = null;
        return this;
      }
      String t = target.trim();
      if (!t.contains("://") && t.contains(",")) {
        return targets(List.of(t.split(",")));
      }
      if (t.isEmpty()) {
        throw new IllegalArgumentException("target is empty");
      }
      this.targets = List.of(t);
      return this;
    }

    /**
     * A static list of replicas ({@code host:port} each), balanced round-robin. One element is the
     * same as {@link #target(String)}.
     */
    public Builder targets(List<String> targets) {
      List<String> clean = new ArrayList<>();
      for (String t : targets) {
        String s = t.trim();
        if (!s.isEmpty()) {
          clean.add(s);
        }
      }
      if (clean.isEmpty()) {
        throw new IllegalArgumentException("no target in " + targets);
      }
      if (clean.size() > 1) {
        for (String s : clean) {
          StaticNameResolverProvider.parse(s); // fails early on a bad address
        }
      }
      this.targets = List.copyOf(clean);
      return this;
    }

    public Builder trustedCa(Path caPem) {
      this.trustedCa = caPem;
      return this;
    }

    public Builder clientCertificate(Path certPem, Path keyPem) {
      this.clientCertificate = certPem;
      this.clientKey = keyPem;
      return this;
    }

    public Builder deadline(Duration deadline) {
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive");
      }
      this.deadline = deadline;
      return this;
    }

    public Builder maxAttempts(int attempts) {
      if (attempts < 1 || attempts > 5) {
        throw new IllegalArgumentException("maxAttempts must be 1..5");
      }
      this.maxAttempts = attempts;
      return this;
    }

    public Builder authority(String authority) {
      this.authority = authority;
      return this;
    }

    /** Turns hedging on with this delay (null turns it off); see {@link #hedgingDelay()}. */
    public Builder hedgingDelay(Duration delay) {
      if (delay != null && (delay.isNegative() || delay.isZero())) {
        throw new IllegalArgumentException("hedgingDelay must be positive");
      }
      this.hedgingDelay = delay;
      return this;
    }

    public Builder maxInFlight(int maxInFlight) {
      if (maxInFlight < 1) {
        throw new IllegalArgumentException("maxInFlight must be at least 1");
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    public Builder healthCheck(boolean on) {
      this.healthCheck = on;
      return this;
    }

    /** See {@link KeyholdClientConfig#keyRefreshInterval()}; zero turns the refresh off. */
    public Builder keyRefreshInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("keyRefreshInterval must not be negative");
      }
      this.keyRefreshInterval = interval;
      return this;
    }

    public KeyholdClientConfig build() {
      if (hedgingDelay != null && maxAttempts < 2) {
        throw new IllegalArgumentException("hedging needs maxAttempts of at least 2");
      }
      return new KeyholdClientConfig(this);
    }
  }
}
