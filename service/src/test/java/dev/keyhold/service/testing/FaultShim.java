package dev.keyhold.service.testing;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fault-injection PKCS#11 module between SunPKCS11 and SoftHSM ({@code src/test/c/
 * keyhold_faultshim.c}, see the README beside it). Each instance compiles the shim with {@code gcc}
 * into a folder of its own beside the JVM's test token, with its own control file, and puts it in
 * front of a private copy of {@code libsofthsm2.so}: the copy is a separate SoftHSM instance in
 * this process, so faults (closing every session, logging out) never reach the JVM's shared {@link
 * TestHsm} provider. Both instances read the same token store, so the shim sees the test token and
 * its keys.
 *
 * <pre>{@code
 * FaultShim shim = FaultShim.create();
 * Pkcs11Token token = shim.openToken();        // SunPKCS11 on the shim, logged in
 * shim.deviceError(Duration.ofSeconds(2));     // every call: CKR_DEVICE_ERROR for 2 s
 * shim.hang("C_Sign"); shim.awaitHung(1, ...); shim.release();
 * }</pre>
 *
 * <p>Every method rewrites the whole control file atomically (write, then rename), so the shim
 * never reads half a file. Function and return-code names are checked against the shim's source.
 */
public final class FaultShim {
  /** What {@link #deviceError} injects. */
  public static final String DEVICE_ERROR = "CKR_DEVICE_ERROR";

  /**
   * The shim's throttling answer unless {@link #throttle(int, String)} names another: HSMs that
   * rate-limit answer with it, and the service's failure classifier treats it as throttling.
   */
  public static final String THROTTLE_CODE = "CKR_FUNCTION_REJECTED";

  private static final Path SOURCE = source();

  /** The shim's C file: in this module, or beside it when another module (client-lib) uses it. */
  private static Path source() {
    Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    Path own = module.resolve("src/test/c/keyhold_faultshim.c");
    Path sibling = module.resolveSibling("service").resolve("src/test/c/keyhold_faultshim.c");
    return Files.isRegularFile(own) ? own : sibling;
  }

  private static final AtomicInteger N = new AtomicInteger();
  private static Set<String> functions;
  private static Set<String> codes;

  private final Path library;
  private final Path control;
  private final Path state;
  private final AtomicInteger throttleIds = new AtomicInteger();

  // What the control file says; guarded by this.
  private String fail;
  private long failUntilMillis;
  private List<String> failFunctions = List.of();
  private long generation;
  private List<String> poison = List.of();
  private long latencyMillis;
  private List<String> latencyFunctions = List.of();
  private List<String> hang = List.of();
  private int throttle;
  private int throttleId;
  private double throttleProbability;
  private String throttleCode = THROTTLE_CODE;
  private boolean trace;
  private List<String> corrupt = List.of();

  private FaultShim(Path library, Path control) {
    this.library = library;
    this.control = control;
    this.state = Path.of(control + ".state");
  }

  /** A shim in front of its own SoftHSM instance, on the JVM's test token; passes through. */
  public static FaultShim create() {
    TestHsm hsm = TestHsm.shared(); // the token store the copy will read
    Path dir = hsm.root().resolve("faultshim-" + N.incrementAndGet());
    try {
      Files.createDirectories(dir);
      Path target = dir.resolve("libsofthsm2-instance.so");
      Files.copy(Path.of(TestHsm.LIBRARY), target, StandardCopyOption.REPLACE_EXISTING);
      return create(dir, target);
    } catch (IOException e) {
      throw new IllegalStateException("cannot set up the fault shim: " + e.getMessage(), e);
    }
  }

  /**
   * A shim in {@code dir} in front of {@code target}. A target already loaded in this JVM (e.g.
   * {@link TestHsm#LIBRARY} itself) is the same module instance, so its other users see the faults
   * that reach the module: invalidated sessions, a logged-out token.
   */
  public static FaultShim create(Path dir, Path target) throws IOException {
    Files.createDirectories(dir);
    FaultShim shim = new FaultShim(dir.resolve("libkeyhold_faultshim.so"), dir.resolve("control"));
    shim.write();
    compile(shim.library, target, shim.control);
    return shim;
  }

  private static void compile(Path out, Path target, Path control) throws IOException {
    if (!Files.isRegularFile(SOURCE)) {
      throw new IOException("shim source not found at " + SOURCE);
    }
    List<String> cmd =
        List.of(
            "gcc",
            "-shared",
            "-fPIC",
            "-O2",
            "-Wall",
            "-fvisibility=hidden",
            "-DSHIM_DEFAULT_TARGET=\"" + target.toAbsolutePath() + "\"",
            "-DSHIM_DEFAULT_CONTROL=\"" + control.toAbsolutePath() + "\"",
            "-o",
            out.toString(),
            SOURCE.toString(),
            "-ldl",
            "-lpthread");
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException(
          "gcc is needed to build the fault shim (./keyhold test installs it)", e);
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException("gcc failed to build the fault shim: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while building the fault shim", e);
    }
  }

  /** The module to give SunPKCS11 (or {@code hsm.library}) instead of libsofthsm2.so. */
  public Path library() {
    return library;
  }

  /** The control file the shim reads before every call. */
  public Path controlFile() {
    return control;
  }

  /** The JVM's test-token configuration with the shim as its library. */
  public HsmConfig hsmConfig() {
    HsmConfig b = TestHsm.shared().hsmConfig();
    return new HsmConfig(
        library,
        b.tokenLabel(),
        b.slot(),
        b.pin(),
        b.sessions(),
        b.queue(),
        b.decryptMode(),
        b.profile(),
        b.verifySignatures());
  }

  /** The test token through the shim: a SunPKCS11 provider of its own, logged in. */
  public Pkcs11Token openToken() {
    return Pkcs11Token.open(hsmConfig());
  }

  /** Every PKCS#11 call answers {@code CKR_DEVICE_ERROR} for {@code duration}, then works. */
  public FaultShim deviceError(Duration duration) {
    return fail(DEVICE_ERROR, duration);
  }

  /**
   * Calls to {@code functions} (every function when none are named) answer {@code code} (a {@code
   * CKR_} name or a number) for {@code duration}, or until {@link #clear} when it is null. The call
   * does not reach SoftHSM; an operation it would have ended is ended there too.
   */
  public synchronized FaultShim fail(String code, Duration duration, String... functions) {
    fail = checkCode(code);
    failUntilMillis = duration == null ? 0 : System.currentTimeMillis() + duration.toMillis();
    failFunctions = checkFunctions(functions);
    return write();
  }

  /** Calls to {@code functions} answer {@code code} until {@link #clear}. */
  public FaultShim failFunctions(String code, String... functions) {
    return fail(code, null, functions);
  }

  /**
   * Every session open on the token is closed in SoftHSM, as a device reset would: their handles
   * answer {@code CKR_SESSION_HANDLE_INVALID}, and with the last session the token logs out.
   * Happens at the next call through the shim.
   */
  public synchronized FaultShim invalidateSessions() {
    generation++;
    return write();
  }

  /**
   * After a real failure of one of {@code functions} (e.g. {@code C_Decrypt} on bad PKCS#1
   * padding), the session keeps an "active operation": every later {@code C_*Init} on it answers
   * {@code CKR_OPERATION_ACTIVE} until it is closed, as tpm2-pkcs11 does.
   */
  public synchronized FaultShim poisonAfterFailed(String... functions) {
    poison = checkFunctions(functions);
    return write();
  }

  /** Calls to {@code functions} (every function when none are named) wait {@code delay} first. */
  public synchronized FaultShim latency(Duration delay, String... functions) {
    latencyMillis = delay.toMillis();
    latencyFunctions = checkFunctions(functions);
    return write();
  }

  /** Calls to {@code functions} block (see {@link #awaitHung}) until {@link #release}. */
  public synchronized FaultShim hang(String... functions) {
    if (functions.length == 0) {
      throw new IllegalArgumentException("name the functions to hang");
    }
    hang = checkFunctions(functions);
    return write();
  }

  /** Lets hung calls go on to SoftHSM. */
  public synchronized FaultShim release() {
    hang = List.of();
    return write();
  }

  /** The next {@code n} calls to C_Sign or C_Decrypt answer {@link #THROTTLE_CODE}. */
  public FaultShim throttle(int n) {
    return throttle(n, THROTTLE_CODE);
  }

  /** The next {@code n} calls to C_Sign or C_Decrypt answer {@code code}. */
  public synchronized FaultShim throttle(int n, String code) {
    throttle = n;
    throttleId = throttleIds.incrementAndGet();
    throttleCode = checkCode(code);
    return write();
  }

  /** Each call to C_Sign or C_Decrypt answers {@link #THROTTLE_CODE} with this probability. */
  public synchronized FaultShim throttleProbability(double p) {
    throttleProbability = p;
    return write();
  }

  /**
   * Successful calls to {@code functions} (default {@code C_Sign} and {@code C_Decrypt}, the raw
   * RSA that PSS signing uses) return their output with its last bit flipped, as a faulty HSM
   * would: a signature that does not verify.
   */
  public synchronized FaultShim corruptSignatures(String... functions) {
    corrupt =
        checkFunctions(functions.length == 0 ? new String[] {"C_Sign", "C_Decrypt"} : functions);
    return write();
  }

  /** Logs every call, its session and its answer to the JVM's stderr (for debugging a test). */
  public synchronized FaultShim trace(boolean on) {
    trace = on;
    return write();
  }

  /**
   * No more faults: pass-through again. Sessions already poisoned stay so until closed, as they
   * would on the real module.
   */
  public synchronized FaultShim clear() {
    fail = null;
    failUntilMillis = 0;
    failFunctions = List.of();
    poison = List.of();
    latencyMillis = 0;
    latencyFunctions = List.of();
    hang = List.of();
    throttle = 0;
    throttleProbability = 0;
    throttleCode = THROTTLE_CODE;
    corrupt = List.of();
    return write();
  }

  /**
   * The shim's counters since it loaded: {@code hung} (calls blocked now), {@code injected}, {@code
   * throttled}, {@code operation_active} (Init calls refused on poisoned sessions), {@code
   * invalidations}, {@code poisoned_sessions}. Empty until the module is loaded.
   */
  public Map<String, Long> counters() {
    Map<String, Long> out = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(state)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          out.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
        }
      }
    } catch (NoSuchFileException e) {
      // not loaded yet
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + state, e);
    }
    return out;
  }

  /** One counter, 0 when absent. */
  public long counter(String name) {
    return counters().getOrDefault(name, 0L);
  }

  /** Waits until {@code n} calls are blocked in the shim by {@link #hang}. */
  public void awaitHung(int n, Duration timeout) throws InterruptedException, TimeoutException {
    awaitCounter("hung", v -> v >= n, timeout);
  }

  /** Waits until the counter satisfies {@code condition}, polling the shim's state file. */
  public void awaitCounter(String name, LongPredicate condition, Duration timeout)
      throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(counter(name))) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("shim counter " + name + " is " + counter(name));
      }
      Thread.sleep(10);
    }
  }

  private synchronized FaultShim write() {
    StringBuilder sb = new StringBuilder("# written by FaultShim; see src/test/c/README.md\n");
    if (fail != null) {
      sb.append("fail=").append(fail).append('\n');
      if (failUntilMillis > 0) {
        sb.append("fail_until=").append(failUntilMillis).append('\n');
      }
      if (!failFunctions.isEmpty()) {
        sb.append("fail_functions=").append(String.join(",", failFunctions)).append('\n');
      }
    }
    sb.append("invalidate_sessions=").append(generation).append('\n');
    if (!poison.isEmpty()) {
      sb.append("poison_after_failed=").append(String.join(",", poison)).append('\n');
    }
    if (latencyMillis > 0) {
      sb.append("latency_ms=").append(latencyMillis).append('\n');
      if (!latencyFunctions.isEmpty()) {
        sb.append("latency_functions=").append(String.join(",", latencyFunctions)).append('\n');
      }
    }
    if (!hang.isEmpty()) {
      sb.append("hang=").append(String.join(",", hang)).append('\n');
    }
    sb.append("throttle=").append(throttle).append('\n');
    sb.append("throttle_id=").append(throttleId).append('\n');
    sb.append("throttle_code=").append(throttleCode).append('\n');
    if (trace) {
      sb.append("trace=1\n");
    }
    if (!corrupt.isEmpty()) {
      sb.append("corrupt_signature=").append(String.join(",", corrupt)).append('\n');
    }
    if (throttleProbability > 0) {
      sb.append("throttle_probability=").append(throttleProbability).append('\n');
    }
    try {
      Path tmp = Files.createTempFile(control.getParent(), "control", ".tmp");
      Files.writeString(tmp, sb);
      Files.move(tmp, control, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the shim's control file " + control, e);
    }
    return this;
  }

  private static List<String> checkFunctions(String... names) {
    Set<String> known = sourceNames(true);
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (!known.contains(n)) {
        throw new IllegalArgumentException("not a PKCS#11 v2.40 function: " + n);
      }
      out.add(n);
    }
    return List.copyOf(out);
  }

  private static String checkCode(String code) {
    if (!code.matches("(0x)?[0-9a-fA-F]+") && !sourceNames(false).contains(code)) {
      throw new IllegalArgumentException("the shim does not know " + code + "; give its number");
    }
    return code;
  }

  /** Function or return-code names, read from the shim's own tables. */
  private static synchronized Set<String> sourceNames(boolean fns) {
    if (functions == null) {
      try {
        String src = Files.readString(SOURCE);
        functions = collect(Pattern.compile("X\\((C_\\w+),").matcher(src));
        codes = collect(Pattern.compile("\\{\"(CKR_\\w+)\"").matcher(src));
      } catch (IOException e) {
        throw new IllegalStateException("cannot read the shim source " + SOURCE, e);
      }
    }
    return fns ? functions : codes;
  }

  private static Set<String> collect(Matcher m) {
    List<String> out = new ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return Set.copyOf(out);
  }
}
