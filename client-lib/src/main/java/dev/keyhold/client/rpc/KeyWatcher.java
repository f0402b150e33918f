package dev.keyhold.client.rpc;

import dev.keyhold.proto.v1.KeyInfo;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The periodic {@code GetKey} behind {@link KeyholdClient#watchKey}: one daemon thread per client,
 * started by the first watch, asking once per interval for each watched key and telling its
 * listeners when the key's version changed. A failed {@code GetKey} (service down, key removed)
 * keeps what is cached and is retried at the next interval.
 */
public final class KeyWatcher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.keyhold.client");

  /** Told, on the refresh thread, about a key's new facts. */
  @FunctionalInterface
  public interface Listener {
    void changed(KeyInfo info) throws Exception;
  }

  private final class Watch implements AutoCloseable {
    final String keyName;
    final Listener listener;
    volatile String version;

    Watch(String keyName, String version, Listener listener) {
      this.keyName = keyName;
      this.version = version;
      this.listener = listener;
    }

    @Override
    public void close() {
      watches.values().remove(this);
    }
  }

  private final KeyholdClient client;
  private final Duration interval;
  private final Map<Long, Watch> watches = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private ScheduledExecutorService thread; // guarded by this
  private boolean closed; // guarded by this

  KeyWatcher(KeyholdClient client, Duration interval) {
    this.client = client;
    this.interval = interval;
  }

  AutoCloseable watch(String keyName, String version, Listener listener) {
    Watch w = new Watch(keyName, version, listener);
    if (interval.isZero()) {
      return w; // refresh off
    }
    synchronized (this) {
      if (closed) {
        return w;
      }
      watches.put(ids.incrementAndGet(), w);
      if (thread == null) {
        thread =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "keyhold-key-refresh");
                  t.setDaemon(true);
                  return t;
                });
        thread.scheduleWithFixedDelay(
            this::refresh, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
    return w;
  }

  private void refresh() {
    for (Watch w : watches.values()) {
      KeyInfo info;
      try {
        info = client.getKey(w.keyName);
      } catch (KeyholdException | RuntimeException e) {
        LOG.log(
            Level.FINE,
            "Keyhold: refresh of key {0} failed, keeping the cached one: {1}",
            new Object[] {w.keyName, e.toString()});
        continue;
      }
      String v = versionOf(info);
      if (v.equals(w.version)) {
        continue;
      }
      try {
        w.listener.changed(info);
        LOG.log(
            Level.INFO,
            "Keyhold: key {0} changed (version {1} -> {2}); new handshakes use its new chain",
            new Object[] {w.keyName, w.version, v});
        w.version = v;
      } catch (Exception e) {
        LOG.log(
            Level.WARNING,
            "Keyhold: key {0} changed but cannot be used, keeping the cached one: {1}",
            new Object[] {w.keyName, e.toString()});
        w.version = v; // not again every interval: the next change is tried
      }
    }
  }

  /**
   * The key's version: {@code KeyInfo.version}, or, from a service that does not send one, the same
   * value computed here (SHA-256 over the SPKI and the chain, first 16 hex characters).
   */
  public static String versionOf(KeyInfo info) {
    if (!info.getVersion().isEmpty()) {
      return info.getVersion();
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(info.getSpkiDer().toByteArray());
      info.getCertificateChainList().forEach(c -> md.update(c.toByteArray()));
      return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@link #versionOf(KeyInfo)} of a key's public key and chain held locally. */
  public static String versionOf(
      java.security.PublicKey publicKey, java.security.cert.X509Certificate[] chain) {
    KeyInfo.Builder b =
        KeyInfo.newBuilder()
            .setSpkiDer(com.google.protobuf.ByteString.copyFrom(publicKey.getEncoded()));
    try {
      for (java.security.cert.X509Certificate c : chain) {
        b.addCertificateChain(com.google.protobuf.ByteString.copyFrom(c.getEncoded()));
      }
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
    return versionOf(b.build());
  }

  @Override
  public synchronized void close() {
    closed = true;
    watches.clear();
    if (thread != null) {
      thread.shutdownNow();
    }
  }
}
