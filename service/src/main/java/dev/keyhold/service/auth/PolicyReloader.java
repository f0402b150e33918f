package dev.keyhold.service.auth;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.service.ops.OperationMetrics;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The authorization policy in force, replaceable without a restart. {@link #reload} re-reads the
 * {@code policy} section of the service's config file (SIGHUP calls it); {@link #watch} calls it
 * when the file changes, debounced so that an editor's several writes make one reload. The whole
 * file is validated as at start-up: a file that would not start the service is rejected with its
 * one-line message (file, line, field) and the previous policy stays in force. Only the policy is
 * taken from a reloaded file; other settings change on restart. Reloads are logged and counted in
 * {@code keyhold_policy_reloads_total{outcome="ok"|"rejected"}}.
 */
public final class PolicyReloader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PolicyReloader.class);

  /**
   * How often the config file is read for changes; a change is loaded once the file has stayed the
   * same for one interval.
   */
  public static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

  private final AtomicReference<Policy> current;
  private final Counter ok;
  private final Counter rejected;
  private final ConfigLoader loader = new ConfigLoader();
  private final Object lock = new Object();
  private byte[] lastSeen;
  private ScheduledExecutorService scheduler;
  private byte[] polled;

  public PolicyReloader(Policy initial, OperationMetrics metrics) {
    this.current = new AtomicReference<>(initial);
    this.ok = counter(metrics, "ok");
    this.rejected = counter(metrics, "rejected");
  }

  private static Counter counter(OperationMetrics metrics, String outcome) {
    return Counter.builder("keyhold.policy.reloads")
        .description("Policy reloads (SIGHUP or file change) by outcome")
        .tag("outcome", outcome)
        .register(metrics.registry());
  }

  /** The policy in force. */
  public Policy current() {
    return current.get();
  }

  /** How many reloads replaced the policy. */
  public long reloaded() {
    return (long) ok.count();
  }

  /** How many reloads were rejected (the previous policy stayed). */
  public long rejected() {
    return (long) rejected.count();
  }

  /**
   * Reads {@code configFile} and, if it is valid, puts its policy in force. {@code trigger} says
   * why, for the log ("SIGHUP", "file change"). Returns whether the policy was replaced.
   */
  public boolean reload(Path configFile, String trigger) {
    synchronized (lock) {
      lastSeen = digest(configFile);
      try {
        ServiceConfig config = loader.load(configFile);
        Policy next = new Policy(config.policy());
        current.set(next);
        ok.increment();
        log.info(
            "policy reloaded from {} ({}): {} rules in force",
            configFile,
            trigger,
            config.policy().size());
        return true;
      } catch (ConfigException | IllegalArgumentException e) {
        rejected.increment();
        log.warn(
            "policy reload ({}) rejected, the previous policy stays in force: {}",
            trigger,
            oneLine(e.getMessage()));
        return false;
      }
    }
  }

  /**
   * Reloads whenever {@code configFile}'s content changes: its bytes are read every {@link
   * #POLL_INTERVAL} (the path is followed, so a file replaced by rename or a Kubernetes ConfigMap's
   * symlink swap is seen too), and a new content is loaded once it has stayed the same for one
   * interval, so that an editor's several writes make one reload.
   *
   * <p>Polling rather than a folder {@code WatchService}: the audit log usually sits in the same
   * folder and is written every few milliseconds, so a watcher woke on every audit flush, and each
   * of its events restarted the debounce: under load a changed policy was never read. Reading a
   * small file once a second costs nothing measurable and works on file systems without inotify.
   */
  public void watch(Path configFile) {
    Path file = configFile.toAbsolutePath();
    synchronized (lock) {
      if (scheduler != null) {
        throw new IllegalStateException("already watching");
      }
      lastSeen = digest(file);
      polled = lastSeen;
      scheduler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "keyhold-policy-watch");
                t.setDaemon(true);
                return t;
              });
      scheduler.scheduleWithFixedDelay(
          () -> poll(file),
          POLL_INTERVAL.toMillis(),
          POLL_INTERVAL.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    log.info("watching {} for policy changes (every {} s)", file, POLL_INTERVAL.toSeconds());
  }

  private void poll(Path file) {
    byte[] now = digest(file);
    synchronized (lock) {
      boolean settled = Arrays.equals(now, polled);
      polled = now;
      if (settled && !Arrays.equals(now, lastSeen)) {
        reload(file, "file change");
      }
    }
  }

  private static byte[] digest(Path file) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    } catch (IOException e) {
      return new byte[0];
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String oneLine(String s) {
    return s == null ? "invalid" : s.replaceAll("\\s*\\R\\s*", " ");
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (scheduler != null) {
        scheduler.shutdownNow();
      }
    }
  }
}
