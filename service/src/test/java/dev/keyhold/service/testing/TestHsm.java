package dev.keyhold.service.testing;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.PinSource;
import dev.keyhold.service.pkcs11.KeyProvisioner;
import dev.keyhold.service.pkcs11.KeyProvisioner.KeySpec;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.setup.PkiDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real SoftHSMv2 token for tests, one per JVM: created fresh in a folder of its own beside the
 * file named by {@code SOFTHSM2_CONF} (set by the build for every test JVM), initialized with
 * {@code pkcs11-tool} (PINs passed through the environment, never as arguments), and filled with
 * the standard keys plus {@code ec-p521} and a small {@code rsa1024} key for negative tests. Also
 * creates the demo PKI with clients {@code test-client}, {@code limited-client} and {@code
 * other-client}.
 */
public final class TestHsm {
  public static final String LIBRARY =
      System.getenv().getOrDefault("KEYHOLD_PKCS11_LIBRARY", "/usr/lib/softhsm/libsofthsm2.so");
  public static final String TOKEN_LABEL = "keyhold-test";
  public static final List<KeySpec> KEYS;

  static {
    List<KeySpec> keys = new ArrayList<>(KeyProvisioner.DEFAULT_KEYS);
    keys.add(new KeySpec("ec-p521", "ec:secp521r1"));
    keys.add(new KeySpec("rsa1024", "rsa:1024"));
    KEYS = List.copyOf(keys);
  }

  private static TestHsm shared;

  private final Path root;
  private final HsmConfig hsmConfig;
  private final Pkcs11Token token;
  private final PkiDirectory pki;
  private final Path softhsmConf;

  private TestHsm(
      Path root, HsmConfig hsmConfig, Pkcs11Token token, PkiDirectory pki, Path softhsmConf) {
    this.root = root;
    this.softhsmConf = softhsmConf;
    this.hsmConfig = hsmConfig;
    this.token = token;
    this.pki = pki;
  }

  /** The JVM's token, created on first use. */
  public static synchronized TestHsm shared() {
    if (shared == null) {
      try {
        shared = create();
      } catch (Exception e) {
        throw new IllegalStateException(
            "cannot set up the SoftHSM test token: " + e.getMessage(), e);
      }
    }
    return shared;
  }

  private static TestHsm create() throws Exception {
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null) {
      throw new IllegalStateException(
          "SOFTHSM2_CONF is not set; run the tests through Maven (the build sets it per module)");
    }
    Path confFile = Path.of(conf).toAbsolutePath();
    // Everything lives in a folder of this JVM's own: two builds of the same module running
    // at once (two engineers, or an IDE and Maven) must not delete each other's token or
    // overwrite each other's PIN. Folders of JVMs that are gone are removed.
    Path shared = confFile.getParent();
    Files.createDirectories(shared);
    removeStaleJvmFolders(shared);
    Path root = shared.resolve("jvm-" + ProcessHandle.current().pid());
    deleteTree(root);
    Path tokens = root.resolve("tokens");
    Files.createDirectories(tokens);
    Path privateConf = root.resolve("softhsm2.conf");
    String confText =
        "directories.tokendir = "
            + tokens
            + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
    Files.writeString(privateConf, confText);

    byte[] r = new byte[8];
    new SecureRandom().nextBytes(r);
    String userPin = HexFormat.of().formatHex(r);
    new SecureRandom().nextBytes(r);
    String soPin = HexFormat.of().formatHex(r);
    Path pinFile = root.resolve("user.pin");
    Files.writeString(pinFile, userPin + "\n");

    Map<String, String> env =
        Map.of("SOFTHSM2_CONF", privateConf.toString(), "KH_SO_PIN", soPin, "KH_USER_PIN", userPin);
    run(
        env,
        "pkcs11-tool",
        "--module",
        LIBRARY,
        "--init-token",
        "--label",
        TOKEN_LABEL,
        "--so-pin",
        "env:KH_SO_PIN");
    run(
        env,
        "pkcs11-tool",
        "--module",
        LIBRARY,
        "--token-label",
        TOKEN_LABEL,
        "--login",
        "--login-type",
        "so",
        "--so-pin",
        "env:KH_SO_PIN",
        "--init-pin",
        "--pin",
        "env:KH_USER_PIN");

    // This JVM's SoftHSM reads SOFTHSM2_CONF once, when the library loads (just below).
    Path tmp = Files.createTempFile(shared, "softhsm2", ".conf");
    Files.writeString(tmp, confText);
    Files.move(
        tmp,
        confFile,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    HsmConfig hsm =
        new HsmConfig(
            Path.of(LIBRARY),
            TOKEN_LABEL,
            null,
            PinSource.ofFile(pinFile),
            4,
            0,
            HsmConfig.DecryptMode.RAW,
            "softhsm2");
    Pkcs11Token token = Pkcs11Token.open(hsm);
    new KeyProvisioner(token).ensure(KEYS);
    PkiDirectory pki = new PkiDirectory(root.resolve("pki"));
    pki.init(List.of("test-client", "limited-client", "other-client"));
    return new TestHsm(root, hsm, token, pki, privateConf);
  }

  private static void removeStaleJvmFolders(Path shared) throws IOException {
    try (var list = Files.list(shared)) {
      for (Path p : list.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith("jvm-") && Files.isDirectory(p)) {
          try {
            long pid = Long.parseLong(name.substring(4));
            if (ProcessHandle.of(pid).isEmpty()) {
              deleteTree(p);
            }
          } catch (NumberFormatException | IOException e) {
            // not ours, or being removed by another JVM: leave it
          }
        }
      }
    }
  }

  private static void run(Map<String, String> env, String... cmd)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * A SoftHSM configuration naming this JVM's token store: set it as {@code SOFTHSM2_CONF} for
   * child processes (CLI runs, pkcs11-tool) that must see this JVM's token.
   */
  public Path softhsmConf() {
    return softhsmConf;
  }

  /** The folder holding the token, PIN file and PKI (one per test JVM). */
  public Path root() {
    return root;
  }

  public HsmConfig hsmConfig() {
    return hsmConfig;
  }

  /** The JVM's one logged-in token (one SunPKCS11 provider per JVM). */
  public Pkcs11Token token() {
    return token;
  }

  public PkiDirectory pki() {
    return pki;
  }
}
