package dev.keyhold.service.pkcs11;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.HsmConfig.VerifyMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmException.Reason;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.RawRsaKey;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.keys.TokenState;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one token serving: a background probe (C_GetTokenInfo and one real, verified signature)
 * every {@code hsm.probeInterval}, the token's {@link TokenState}, and recovery from failures that
 * leave sessions unusable.
 *
 * <p>Recovery re-creates the SunPKCS11 provider (a "generation"): a new provider, login, and the
 * keys found again by name and matched by SPKI (handles change after a token reset). SunPKCS11
 * pools its sessions and puts a failed operation's session back into its pool, so a poisoned
 * session (CKR_OPERATION_ACTIVE) would fail every few operations; a new generation never touches
 * the old pool again. One re-initialisation runs at a time (on the supervisor's one thread), a
 * failure reported against an older generation is ignored, and failed attempts back off
 * exponentially up to the probe interval: one poisoned session cannot cause a storm of re-inits.
 *
 * <p>Trade-off, against owning the sessions through the PKCS#11 wrapper: this is less code, but it
 * replaces every session on any session failure, and the old generation's sessions are closed by
 * SunPKCS11 itself when they are collected, not at once. C_CloseAllSessions is deliberately not
 * called: SunPKCS11 closes a collected session by its handle, and modules reuse handles, so a stale
 * provider would close the new generation's sessions. For the same reason a generation whose
 * sessions the module invalidated (session handle invalid, token removed) is kept reachable, so it
 * never closes a handle the module has given to someone else; such events come from the device,
 * spaced by the backoff, not from callers.
 *
 * <p>The probe runs on a worker thread of its own and is bounded by {@code hsm.probeTimeout}: a
 * probe that does not answer in time marks the token NOT_SERVING. While it stays hung, no new probe
 * is started (at most one probe thread is ever stuck in the module); each skipped round is counted
 * ({@link #probesSkipped()}). When the hung call returns, the next round probes again and the token
 * serves again on success. A hung probe does not trigger a re-initialisation: a new provider on the
 * same hung device would only hang once more.
 */
public final class TokenSupervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenSupervisor.class);

  /** Failures after which a generation's sessions are not used again. */
  static final Set<Reason> SESSION_FAILURES =
      EnumSet.of(
          Reason.DEVICE_ERROR,
          Reason.SESSION_INVALID,
          Reason.TOKEN_ABSENT,
          Reason.NOT_LOGGED_IN,
          Reason.OPERATION_ACTIVE,
          Reason.OBJECT_HANDLE_INVALID);

  /** Failures after which the module may hand the old generation's handles to new sessions. */
  private static final Set<Reason> HANDLES_GONE =
      EnumSet.of(Reason.SESSION_INVALID, Reason.TOKEN_ABSENT);

  private static final Duration FIRST_BACKOFF = Duration.ofMillis(50);

  /** How long an operation that met a session failure waits for the next generation to retry. */
  private static final Duration RETRY_WAIT = Duration.ofSeconds(2);

  private static final byte[] PROBE_DIGEST = probeDigest();

  /**
   * One SunPKCS11 provider and the keys found through it, by name. {@code retired}: keys a re-scan
   * took a name away from (the name moved to another key), by SPKI SHA-256 hex, so an operation
   * that resolved the old key before the re-scan finishes on it; a re-initialisation drops them.
   */
  private record Generation(
      long number, Pkcs11Token token, Map<String, Pkcs11Key> keys, Map<String, Pkcs11Key> retired) {
    Generation(long number, Pkcs11Token token, Map<String, Pkcs11Key> keys) {
      this(number, token, keys, Map.of());
    }
  }

  /** Told, on the supervisor's thread, when a re-scan changed the keys. */
  @FunctionalInterface
  public interface KeysListener {
    /**
     * {@code keys}: all keys now served (sorted by name); {@code changed}: how many were renewed,
     * moved to another key, added or removed.
     */
    void changed(List<HsmKey> keys, int changed);
  }

  private final String name;
  private final HsmConfig config;
  private final TokenState.Listener listener;
  private final Duration interval;
  private final Duration probeTimeout;
  private final ScheduledExecutorService thread;
  private final java.util.concurrent.ExecutorService probeWorker;
  private final java.util.concurrent.atomic.AtomicLong probesSkipped =
      new java.util.concurrent.atomic.AtomicLong();
  private java.util.concurrent.Future<?> probeInFlight; // supervisor thread only
  private volatile List<SupervisedKey> keys;
  private volatile KeysListener keysListener = (k, n) -> {};
  private final java.util.Set<String> missingOnce = new java.util.HashSet<>(); // supervisor thread
  private final Signer probeSigner = new Signer(VerifyMode.ALL);
  private final AtomicBoolean recoveryQueued = new AtomicBoolean();
  private final List<Generation> keptReachable = new ArrayList<>(); // supervisor thread only
  private volatile Generation current;
  private volatile TokenState state = TokenState.SERVING;
  private volatile CompletableFuture<Generation> next = new CompletableFuture<>();
  private Duration backoff = FIRST_BACKOFF; // supervisor thread only
  private volatile boolean closed;
  private volatile boolean waitForRecovery = true;
  private final boolean ownsToken;

  /**
   * Supervises {@code token}, already open with {@code config} (whose probe interval, PIN and
   * library a re-initialisation uses). {@code name} names the token in logs and metrics. The probe
   * starts at once; {@link #keys()} are stable across generations. {@code ownsToken}: log out at
   * {@link #close} even when the first generation is still in use (a token opened by someone else
   * is left logged in; generations the supervisor opened are always logged out).
   */
  public TokenSupervisor(
      String name,
      Pkcs11Token token,
      HsmConfig config,
      boolean ownsToken,
      TokenState.Listener listener) {
    this.name = name;
    this.config = config;
    this.ownsToken = ownsToken;
    this.listener = listener;
    this.interval = config.probeInterval();
    this.probeTimeout = config.probeTimeout();
    Map<String, Pkcs11Key> found = byName(token.discoverKeys());
    this.current = new Generation(1, token, found);
    List<SupervisedKey> ks = new ArrayList<>();
    for (Pkcs11Key k : found.values()) {
      ks.add(new SupervisedKey(k.description()));
    }
    this.keys = List.copyOf(ks);
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "keyhold-probe-" + name);
              t.setDaemon(true);
              return t;
            });
    this.probeWorker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "keyhold-probe-call-" + name);
              t.setDaemon(true);
              return t;
            });
    thread.scheduleWithFixedDelay(
        this::probe, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static Map<String, Pkcs11Key> byName(List<Pkcs11Key> keys) {
    Map<String, Pkcs11Key> m = new LinkedHashMap<>();
    for (Pkcs11Key k : keys) {
      m.put(k.description().name(), k);
    }
    return m;
  }

  public String name() {
    return name;
  }

  public TokenState state() {
    return state;
  }

  /** The keys, as the service serves them: each runs on the current generation. */
  public List<HsmKey> keys() {
    return List.copyOf(keys);
  }

  /**
   * In an HA group a session failure is answered at once (the group moves the call to another
   * token) instead of waiting for this token's next generation.
   */
  void waitForRecovery(boolean wait) {
    this.waitForRecovery = wait;
  }

  /** How many probe rounds were skipped because the previous probe was still hung in the module. */
  public long probesSkipped() {
    return probesSkipped.get();
  }

  /** How many times the provider was re-created (1 at start). */
  public long generation() {
    return current.number();
  }

  /**
   * Re-reads the token's keys and certificates every {@code every} (zero: never), on the
   * supervisor's thread, and tells {@code listener} when they changed. See {@link #rescan}.
   */
  public void rescanEvery(Duration every, KeysListener listener) {
    this.keysListener = listener;
    if (!every.isZero()) {
      thread.scheduleWithFixedDelay(
          this::rescan, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Re-reads the token's key and certificate objects and swaps what is served: a key whose
   * certificate chain was renewed or whose name was moved to another key gets a new {@link HsmKey}
   * (new description and version); unchanged keys keep theirs. An operation on a key resolved
   * before keeps it and finishes on the old key. Skipped while the token is not SERVING or a
   * recovery is queued: recovery re-reads the keys itself. Runs on the supervisor's thread, so it
   * never overlaps a recovery; returns how many keys changed.
   */
  private int rescan() {
    if (closed || recoveryQueued.get() || state != TokenState.SERVING) {
      return 0;
    }
    Generation g = current;
    List<Pkcs11Key> found;
    try {
      found =
          g.token()
              .rescanKeys(
                  d -> {
                    Pkcs11Key was = g.keys().get(d.name());
                    return was != null && was.description().version().equals(d.version())
                        ? was
                        : null;
                  });
    } catch (RuntimeException e) {
      log.warn("token {}: re-scan of the keys failed: {}", name, HsmFailures.rootMessage(e));
      return 0;
    }
    Map<String, Pkcs11Key> now = byName(found);
    missingOnce.removeAll(now.keySet());
    Map<String, SupervisedKey> served = new LinkedHashMap<>();
    for (SupervisedKey k : keys) {
      served.put(k.description().name(), k);
    }
    Map<String, Pkcs11Key> retired = new LinkedHashMap<>(g.retired());
    List<SupervisedKey> serving = new ArrayList<>();
    int changed = 0;
    for (Pkcs11Key k : now.values()) {
      KeyDescription d = k.description();
      SupervisedKey old = served.remove(d.name());
      if (old != null && old.description().version().equals(d.version())) {
        serving.add(old);
        continue;
      }
      changed++;
      serving.add(new SupervisedKey(d));
      if (old == null) {
        log.info("token {}: key '{}' appeared (version {})", name, d.name(), d.version());
        continue;
      }
      log.info(
          "token {}: key '{}' changed, version {} -> {}{}",
          name,
          d.name(),
          old.description().version(),
          d.version(),
          Arrays.equals(old.description().spkiSha256(), d.spkiSha256())
              ? " (renewed certificate)"
              : " (moved to another key)");
      retireIfMoved(g, old.description(), d, retired);
    }
    missingOnce.retainAll(served.keySet());
    for (SupervisedKey gone : served.values()) {
      String n = gone.description().name();
      Pkcs11Key held = g.keys().get(n);
      if (missingOnce.add(n) && held != null) {
        // Missing once: a certificate import replaces the object in two steps, so it is kept
        // until a second re-scan agrees.
        now.put(n, held);
        serving.add(gone);
        continue;
      }
      missingOnce.remove(n);
      changed++;
      log.info("token {}: key '{}' is no longer on the token", name, n);
      retireIfMoved(g, gone.description(), null, retired);
    }
    if (changed == 0) {
      return 0;
    }
    current = new Generation(g.number(), g.token(), now, Map.copyOf(retired));
    serving.sort(java.util.Comparator.comparing(k -> k.description().name()));
    keys = List.copyOf(serving);
    try {
      keysListener.changed(keys(), changed);
    } catch (RuntimeException e) {
      log.warn("key change listener failed: {}", e.toString());
    }
    return changed;
  }

  private static void retireIfMoved(
      Generation g, KeyDescription was, KeyDescription now, Map<String, Pkcs11Key> retired) {
    if (now != null && Arrays.equals(was.spkiSha256(), now.spkiSha256())) {
      return; // the same key, renewed: it is still served by name
    }
    Pkcs11Key k = g.keys().get(was.name());
    if (k != null) {
      retired.put(java.util.HexFormat.of().formatHex(was.spkiSha256()), k);
    }
  }

  /**
   * Re-scans now, on the supervisor's thread, and waits for it: how many keys changed. For tests
   * and for an operator's explicit reload; the periodic re-scan does the same.
   */
  public int rescanNow() {
    try {
      return thread.submit(this::rescan).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("re-scan of token " + name + " failed", e);
    }
  }

  // ---- probe and recovery, on the supervisor's thread ----

  private void probe() {
    if (closed || recoveryQueued.get()) {
      return; // a recovery is queued: it probes the new generation itself
    }
    Generation g = current;
    if (probeInFlight != null && !probeInFlight.isDone()) {
      probesSkipped.incrementAndGet();
      return; // the last probe is still hung: do not pile up threads in the module
    }
    try {
      timedCheck(g);
      if (state != TokenState.SERVING) {
        transition(TokenState.SERVING, "the probe succeeded");
      }
    } catch (ProbeTimeout t) {
      transition(TokenState.NOT_SERVING, t.getMessage());
    } catch (RuntimeException | GeneralSecurityException e) {
      HsmException h = HsmFailures.classify(e);
      transition(TokenState.NOT_SERVING, "the probe failed: " + describe(h));
      requestRecovery(g.number(), h);
    }
  }

  /** The probe did not answer within {@code hsm.probeTimeout}, or the previous one is hung. */
  private static final class ProbeTimeout extends Exception {
    private static final long serialVersionUID = 1L;

    ProbeTimeout(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * {@link #check} on the probe worker, waiting at most {@code hsm.probeTimeout}. On the supervisor
   * thread only.
   */
  private void timedCheck(Generation g) throws GeneralSecurityException, ProbeTimeout {
    if (probeInFlight != null && !probeInFlight.isDone()) {
      throw new ProbeTimeout("the previous probe is still hung in the module");
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    try {
      probeInFlight =
          probeWorker.submit(
              () -> {
                try {
                  check(g);
                  f.complete(null);
                } catch (RuntimeException | GeneralSecurityException e) {
                  f.completeExceptionally(e);
                }
              });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      throw new ProbeTimeout("the supervisor is closing");
    }
    try {
      f.get(probeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new ProbeTimeout(
          "the probe did not answer within hsm.probeTimeout (" + probeTimeout.toMillis() + " ms)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProbeTimeout("interrupted while probing");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof GeneralSecurityException gse) {
        throw gse;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(c);
    }
  }

  /** C_GetTokenInfo, then one signature with a held key, verified in software. */
  private void check(Generation g) throws GeneralSecurityException {
    g.token().checkTokenInfo();
    Pkcs11Key k = probeKey(g);
    if (k == null) {
      return; // no key can sign: token info is all there is to ask
    }
    SignatureScheme scheme = probeScheme(k.description());
    probeSigner.sign(k, scheme, Arrays.copyOf(PROBE_DIGEST, scheme.hash().length()));
  }

  private static Pkcs11Key probeKey(Generation g) {
    Pkcs11Key any = null;
    for (Pkcs11Key k : g.keys().values()) {
      if (probeScheme(k.description()) == null) {
        continue;
      }
      if (k.description().modulusBytes() == 0) {
        return k; // EC: the cheapest real signature
      }
      any = any == null ? k : any;
    }
    return any;
  }

  private static SignatureScheme probeScheme(KeyDescription d) {
    for (SignatureScheme s : d.schemes()) {
      if (s.padding() != SignatureScheme.Padding.PSS) {
        return s;
      }
    }
    return null;
  }

  /**
   * A failure of generation {@code number}: re-initialise once, unless that generation is already
   * being replaced.
   */
  private void requestRecovery(long number, HsmException why) {
    if (closed || number != current.number() || !recoveryQueued.compareAndSet(false, true)) {
      return;
    }
    if (state == TokenState.SERVING) {
      transition(TokenState.RECOVERING, describe(why));
    }
    boolean handlesGone = HANDLES_GONE.contains(why.reason());
    try {
      thread.execute(() -> recover(handlesGone));
    } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
      recoveryQueued.set(false);
    }
  }

  private void recover(boolean handlesGone) {
    if (closed) {
      return;
    }
    Generation old = current;
    try {
      Pkcs11Token token = Pkcs11Token.open(config);
      Map<String, Pkcs11Key> found = new LinkedHashMap<>();
      for (Pkcs11Key k : token.discoverKeys()) {
        Pkcs11Key was = old.keys().get(k.description().name());
        if (was != null
            && Arrays.equals(was.description().spkiSha256(), k.description().spkiSha256())) {
          found.put(k.description().name(), k);
        }
      }
      Generation g = new Generation(old.number() + 1, token, found);
      timedCheck(g);
      if (handlesGone) {
        keptReachable.add(old);
      }
      current = g;
      backoff = FIRST_BACKOFF;
      recoveryQueued.set(false);
      CompletableFuture<Generation> done = next;
      next = new CompletableFuture<>();
      done.complete(g);
      if (found.size() < old.keys().size()) {
        log.warn(
            "token {}: {} of {} keys found again by name and SPKI",
            name,
            found.size(),
            old.keys().size());
      }
      transition(TokenState.SERVING, "sessions replaced (generation " + g.number() + ")");
    } catch (RuntimeException | GeneralSecurityException | ProbeTimeout e) {
      // The device failed again: whatever it did to the old generation's handles is unknown, so
      // the old generation stays out of the collector's reach once replaced.
      handlesGone = true;
      transition(TokenState.NOT_SERVING, "re-initialisation failed: " + HsmFailures.rootMessage(e));
      CompletableFuture<Generation> failed = next;
      next = new CompletableFuture<>();
      failed.complete(null); // callers waiting to retry give up now: fast HSM_FAILURE
      Duration wait = backoff;
      backoff = min(backoff.multipliedBy(2), interval);
      boolean gone = handlesGone;
      if (!closed) {
        thread.schedule(() -> recover(gone), wait.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private synchronized void transition(TokenState to, String why) {
    TokenState from = state;
    if (from == to) {
      return;
    }
    state = to;
    if (to == TokenState.SERVING) {
      log.info("token {}: {} -> {} ({})", name, from, to, why);
    } else {
      log.warn("token {}: {} -> {} ({})", name, from, to, why);
    }
    try {
      listener.changed(name, from, to, why);
    } catch (RuntimeException e) {
      log.warn("token state listener failed: {}", e.toString());
    }
  }

  private static String describe(HsmException h) {
    return h.ckrName().isEmpty() ? h.getMessage() : h.ckrName();
  }

  @Override
  public void close() {
    closed = true;
    thread.shutdownNow();
    probeWorker.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Generation g = current;
    if (ownsToken || g.number() > 1) {
      g.token().logout();
    }
  }

  private static byte[] probeDigest() {
    try {
      return MessageDigest.getInstance("SHA-512")
          .digest("Keyhold health probe".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the keys the service serves ----

  /** One HSM operation on one generation's key. */
  @FunctionalInterface
  private interface Op<T> {
    T run(Pkcs11Key key) throws GeneralSecurityException;
  }

  /**
   * A key that runs on the current generation. A session failure is reported (one re-init for the
   * generation) and the operation is retried once on the next generation, when it comes within a
   * short wait; sign and decrypt are idempotent. While the token is NOT_SERVING, calls fail at once
   * with an HSM failure instead of waiting on a broken device.
   */
  private final class SupervisedKey implements RawRsaKey {
    private final KeyDescription description;

    SupervisedKey(KeyDescription description) {
      this.description = description;
    }

    private <T> T run(Op<T> op) throws GeneralSecurityException {
      if (state == TokenState.NOT_SERVING) {
        throw new HsmException(
            Reason.DEVICE_ERROR, "", "token " + name + " is not serving (recovering)", null);
      }
      Generation g = current;
      CompletableFuture<Generation> following = next;
      try {
        return op.run(key(g));
      } catch (HsmException e) {
        if (!SESSION_FAILURES.contains(e.reason())) {
          throw e;
        }
        requestRecovery(g.number(), e);
        if (!waitForRecovery) {
          throw e;
        }
        Generation n = await(following, g);
        if (n == null) {
          throw e;
        }
        return op.run(key(n));
      }
    }

    private Generation await(CompletableFuture<Generation> following, Generation g) {
      if (current.number() != g.number()) {
        return current;
      }
      try {
        return following.get(RETRY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    /** This key on generation {@code g}, or null. */
    private Pkcs11Key lookup(Generation g) {
      Pkcs11Key k = g.keys().get(description.name());
      if (k != null && !Arrays.equals(k.description().spkiSha256(), description.spkiSha256())) {
        // the name moved to another key after this one was resolved: finish on the old key
        k = g.retired().get(java.util.HexFormat.of().formatHex(description.spkiSha256()));
      }
      return k;
    }

    private Pkcs11Key key(Generation g) {
      Pkcs11Key k = lookup(g);
      if (k == null) {
        throw new HsmException(
            Reason.OBJECT_HANDLE_INVALID,
            "",
            "key '" + description.name() + "' was not found again on token " + name,
            null);
      }
      return k;
    }

    @Override
    public KeyDescription description() {
      return description;
    }

    @Override
    public byte[] signDigest(SignatureScheme scheme, byte[] digest)
        throws GeneralSecurityException {
      return run(k -> k.signDigest(scheme, digest));
    }

    @Override
    public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
      return run(k -> k.pkcs1Decrypt(ciphertext));
    }

    @Override
    public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
      return run(k -> k.rawRsa(input));
    }

    @Override
    public byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
      return run(k -> k.pkcs1Sign(data));
    }

    /**
     * As the current generation's key; every generation reads the same key's allowed mechanisms.
     */
    @Override
    public boolean allowsRawRsa() {
      Pkcs11Key k = lookup(current);
      return k == null || k.allowsRawRsa();
    }

    @Override
    public boolean signsPssInHsm() {
      Pkcs11Key k = lookup(current);
      return k != null && k.signsPssInHsm();
    }

    @Override
    public String toString() {
      return "SupervisedKey[" + description + " on " + name + "]";
    }
  }
}
