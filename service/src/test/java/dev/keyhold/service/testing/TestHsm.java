package dev.keyhold.service.testing;

import dev.keyhold.hsm.config.HsmConfig;
import dev.keyhold.hsm.config.PinSource;
import dev.keyhold.service.pkcs11.KeyProvisioner;
import dev.keyhold.service.pkcs11.KeyProvisioner.KeySpec;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.pki.PkiDirectory;
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
 * A real SoftHSMv2 token for tests, one per JVM: created fresh under the folder named by
 * {@code SOFTHSM2_CONF} (set by the build for every test JVM), initialized with
 * {@code pkcs11-tool} (PINs passed through the environment, never as arguments), and
 * filled with the standard keys plus {@code ec-p521} and a small {@code rsa1024} key for
 * negative tests. Also creates the demo PKI with clients {@code test-client},
 * {@code limited-client} and {@code other-client}.
 */
public final class TestHsm {
  public static final String LIBRARY = System.getenv().getOrDefault("KEYHOLD_PKCS11_LIBRARY", "/usr/lib/softhsm/libsofthsm2.so");
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

  private TestHsm(Path root, HsmConfig hsmConfig, Pkcs11Token token, PkiDirectory pki) {
    this.root = root;
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
        throw new IllegalStateException("cannot set up the SoftHSM test token: " + e.getMessage(), e);
      }
    }
    return shared;
  }

  private static TestHsm create() throws Exception {
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null) {
      throw new IllegalStateException("SOFTHSM2_CONF is not set; run the tests through Maven (the build sets it per module)");
    }
    Path confFile = Path.of(conf).toAbsolutePath();
    Path root = confFile.getParent();
    Path tokens = root.resolve("tokens");
    deleteTree(tokens);
    Files.createDirectories(tokens);
    Files.writeString(confFile, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");

    byte[] r = new byte[8];
    new SecureRandom().nextBytes(r);
    String userPin = HexFormat.of().formatHex(r);
    new SecureRandom().nextBytes(r);
    String soPin = HexFormat.of().formatHex(r);
    Path pinFile = root.resolve("user.pin");
    Files.deleteIfExists(pinFile);
    Files.writeString(pinFile, userPin + "\n");

    Map<String, String> env = Map.of("SOFTHSM2_CONF", confFile.toString(), "KH_SO_PIN", soPin, "KH_USER_PIN", userPin);
    run(env, "pkcs11-tool", "--module", LIBRARY, "--init-token", "--label", TOKEN_LABEL, "--so-pin", "env:KH_SO_PIN");
    run(env, "pkcs11-tool", "--module", LIBRARY, "--token-label", TOKEN_LABEL, "--login", "--login-type", "so", "--so-pin", "env:KH_SO_PIN", "--init-pin", "--pin", "env:KH_USER_PIN");

    HsmConfig hsm = new HsmConfig(Path.of(LIBRARY), TOKEN_LABEL, null, PinSource.ofFile(pinFile), 4, 0, HsmConfig.DecryptMode.RAW, "softhsm2");
    Pkcs11Token token = Pkcs11Token.open(hsm);
    new KeyProvisioner(token).ensure(KEYS);
    PkiDirectory pki = new PkiDirectory(root.resolve("pki"));
    pki.init(List.of("test-client", "limited-client", "other-client"));
    return new TestHsm(root, hsm, token, pki);
  }

  private static void run(Map<String, String> env, String... cmd) throws IOException, InterruptedException {
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

  /** The folder holding the token, PIN file and PKI. */
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
