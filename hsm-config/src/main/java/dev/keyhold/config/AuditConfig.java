package dev.keyhold.config;

import java.time.Duration;

/**
 * The {@code audit:} settings besides the file.
 *
 * @param onFailure {@code refuse} (default): operations are refused with UNAVAILABLE /
 *     AUDIT_UNAVAILABLE while the log cannot be written; {@code continue}: serve on unaudited
 * @param checkpointKey the HSM key that signs checkpoints, or null for none (the chain is then not
 *     anchored)
 * @param checkpointInterval a checkpoint at least this often while lines are written (default 1m)
 * @param checkpointLines and every this many lines (default 1000)
 * @param maxBytes rotate the file once it holds this many bytes (default 0: never); the chain
 *     continues into the next file, and a checkpoint closes the old one
 * @param maxFiles rotated files to keep, older ones deleted (default 0: none is deleted)
 */
public record AuditConfig(
    OnFailure onFailure,
    String checkpointKey,
    Duration checkpointInterval,
    Long checkpointLines,
    Long maxBytes,
    Integer maxFiles) {

  /** What happens when the audit log cannot be written. */
  public enum OnFailure {
    REFUSE,
    CONTINUE;

    @com.fasterxml.jackson.annotation.JsonCreator
    static OnFailure parse(String text) {
      for (OnFailure f : values()) {
        if (f.name().equalsIgnoreCase(text)) {
          return f;
        }
      }
      throw new ConfigException(
          "audit.onFailure: '" + text + "' is not refuse or continue (refuse is the default)");
    }
  }

  public static final AuditConfig DEFAULT = new AuditConfig(null, null, null, null);

  /** Without rotation. */
  public AuditConfig(
      OnFailure onFailure,
      String checkpointKey,
      Duration checkpointInterval,
      Long checkpointLines) {
    this(onFailure, checkpointKey, checkpointInterval, checkpointLines, null, null);
  }

  public AuditConfig {
    if (onFailure == null) {
      onFailure = OnFailure.REFUSE;
    }
    if (checkpointKey != null && checkpointKey.isBlank()) {
      checkpointKey = null;
    }
    if (checkpointInterval == null) {
      checkpointInterval = Duration.ofMinutes(1);
    }
    if (checkpointInterval.isNegative() || checkpointInterval.isZero()) {
      throw new ConfigException("audit.checkpointInterval must be positive");
    }
    if (checkpointLines == null) {
      checkpointLines = 1000L;
    }
    if (checkpointLines <= 0) {
      throw new ConfigException("audit.checkpointLines must be positive");
    }
    if (maxBytes == null) {
      maxBytes = 0L;
    }
    if (maxBytes < 0 || (maxBytes > 0 && maxBytes < 4096)) {
      throw new ConfigException("audit.maxBytes must be 0 (no rotation) or at least 4096");
    }
    if (maxFiles == null) {
      maxFiles = 0;
    }
    if (maxFiles < 0) {
      throw new ConfigException("audit.maxFiles must be >= 0 (0 keeps every rotated file)");
    }
  }
}
