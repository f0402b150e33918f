package dev.keyhold.client.rpc;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to reach a Keyhold service: target, mTLS material, deadline and retries. Immutable; build
 * with {@link #builder()}.
 *
 * <p>Security note: the client's private key is a PEM file for the channel's mTLS only; it is not
 * one of the keys Keyhold serves.
 */
public final class KeyholdClientConfig {
  private final String target;
  private final Path trustedCa;
  private final Path clientCertificate;
  private final Path clientKey;
  private final Duration deadline;
  private final int maxAttempts;
  private final String authority;

  private KeyholdClientConfig(Builder b) {
    this.target = Objects.requireNonNull(b.target, "target");
    this.trustedCa = Objects.requireNonNull(b.trustedCa, "trustedCa");
    this.clientCertificate = Objects.requireNonNull(b.clientCertificate, "clientCertificate");
    this.clientKey = Objects.requireNonNull(b.clientKey, "clientKey");
    this.deadline = b.deadline;
    this.maxAttempts = b.maxAttempts;
    this.authority = b.authority;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** gRPC target: {@code host:port}, or {@code dns:///name:port} for round-robin over replicas. */
  public String target() {
    return target;
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

  /** Deadline of every call. */
  public Duration deadline() {
    return deadline;
  }

  /** Attempts per call, retrying UNAVAILABLE (sign and decrypt are idempotent). */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** TLS authority override (the name the service certificate must carry), or null. */
  public String authority() {
    return authority;
  }

  public Builder toBuilder() {
    return new Builder()
        .target(target)
        .trustedCa(trustedCa)
        .clientCertificate(clientCertificate, clientKey)
        .deadline(deadline)
        .maxAttempts(maxAttempts)
        .authority(authority);
  }

  /** Builder; {@code target}, {@code trustedCa} and the client certificate are required. */
  public static final class Builder {
    private String target;
    private Path trustedCa;
    private Path clientCertificate;
    private Path clientKey;
    private Duration deadline = Duration.ofSeconds(2);
    private int maxAttempts = 3;
    private String authority;

    public Builder target(String target) {
      this.target = target;
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

    public KeyholdClientConfig build() {
      return new KeyholdClientConfig(this);
    }
  }
}
