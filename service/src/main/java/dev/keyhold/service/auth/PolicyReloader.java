package dev.keyhold.service.auth;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.service.ops.OperationMetrics;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
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

  /** How long the file must be quiet after a change before it is read. */
  public static final Duration DEBOUNCE = Duration.ofMillis(500);

  private final AtomicReference<Policy> current;
  private final Counter ok;
  private final Counter rejected;
  private final ConfigLoader loader = new ConfigLoader();
  private final Object lock = new Object();
  private byte[] lastSeen;
  private ScheduledExecutorService scheduler;
  private ScheduledFuture<?> pending;
  private WatchService watcher;

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
   * Reloads whenever {@code configFile}'s content changes (watching its folder, so that a file
   * replaced by rename or a symlink swap is seen too).
   */
  public void watch(Path configFile) throws IOException {
    Path file = configFile.toAbsolutePath();
    Path dir = file.getParent();
    synchronized (lock) {
      if (watcher != null) {
        throw new IllegalStateException("already watching");
      }
      lastSeen = digest(file);
      watcher = dir.getFileSystem().newWatchService();
      dir.register(
          watcher,
          StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
      scheduler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "keyhold-policy-reload");
                t.setDaemon(true);
                return t;
              });
    }
    WatchService ws = watcher;
    Thread t = new Thread(() -> watchLoop(ws, file), "keyhold-policy-watch");
    t.setDaemon(true);
    t.start();
    log.info("watching {} for policy changes", file);
  }

  private void watchLoop(WatchService ws, Path file) {
    try {
      while (true) {
        WatchKey key = ws.take();
        if (concernsConfig(key.pollEvents(), file.getFileName())) {
          synchronized (lock) {
            if (pending != null) {
              pending.cancel(false);
            }
            pending =
                scheduler.schedule(
                    () -> reloadIfChanged(file), DEBOUNCE.toMillis(), TimeUnit.MILLISECONDS);
          }
        }
        if (!key.reset()) {
          log.warn("{} can no longer be watched: policy reloads only on SIGHUP", file.getParent());
          return;
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed
    }
  }

  /**
   * Whether any event is about the config file itself, or about an entry whose name starts with
   * {@code ..} (Kubernetes mounts a ConfigMap as symlinks into a {@code ..data} folder that it
   * swaps atomically), or lost events ({@code OVERFLOW}). Events about other files are ignored: the
   * audit log often lives in the same folder and is written all the time, and rescheduling the
   * debounce for each of its writes both cost CPU on every flush and kept a real change from ever
   * being read while the service was under load.
   */
  static boolean concernsConfig(List<WatchEvent<?>> events, Path configName) {
    for (WatchEvent<?> e : events) {
      if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
        return true;
      }
      if (e.context() instanceof Path p
          && (p.equals(configName) || p.getFileName().toString().startsWith(".."))) {
        return true;
      }
    }
    return false;
  }

  private void reloadIfChanged(Path file) {
    synchronized (lock) {
      if (Arrays.equals(digest(file), lastSeen)) {
        return; // another file in the folder changed, or the same bytes were written again
      }
      reload(file, "file change");
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
      if (watcher != null) {
        try {
          watcher.close();
        } catch (IOException e) {
          log.debug("closing the policy watcher: {}", e.getMessage());
        }
      }
    }
  }
}
