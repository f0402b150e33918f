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

  /**
   * A second token, holding one RSA-2048 key {@link #NO_RAW_RSA_KEY} whose CKA_ALLOWED_MECHANISMS
   * are only CKM_RSA_PKCS and CKM_RSA_PKCS_PSS: a stand-in for an HSM that forbids raw RSA (SoftHSM
   * enforces the list at C_SignInit/C_DecryptInit).
   */
  public static final String NO_RAW_RSA_TOKEN_LABEL = "keyhold-noraw";

  public static final String NO_RAW_RSA_KEY = "rsa-noraw";

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
  private Pkcs11Token noRawRsaToken;

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

    createNoRawRsaToken(env, root);

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

  /**
   * Before this JVM loads SoftHSM (it sees the tokens present then): a second token with an RSA key
   * created by pkcs11-tool with {@code --allowed-mechanisms RSA-PKCS,RSA-PKCS-PSS}, and a
   * certificate for it (SunPKCS11 only exposes keys that have one).
   */
  private static void createNoRawRsaToken(Map<String, String> env, Path root) throws Exception {
    String slots = output(env, "pkcs11-tool", "--module", LIBRARY, "--list-slots");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "Slot \\d+ \\((0x[0-9a-f]+)\\)[^\\n]*\\n\\s*token state:\\s*uninitialized")
            .matcher(slots);
    if (!m.find()) {
      throw new IOException("no free SoftHSM slot for the second token: " + slots);
    }
    run(
        env,
        "pkcs11-tool",
        "--module",
        LIBRARY,
        "--slot",
        m.group(1),
        "--init-token",
        "--label",
        NO_RAW_RSA_TOKEN_LABEL,
        "--so-pin",
        "env:KH_SO_PIN");
    String[] token = {"pkcs11-tool", "--module", LIBRARY, "--token-label", NO_RAW_RSA_TOKEN_LABEL};
    run(
        env,
        concat(
            token,
            "--login",
            "--login-type",
            "so",
            "--so-pin",
            "env:KH_SO_PIN",
            "--init-pin",
            "--pin",
            "env:KH_USER_PIN"));
    String[] user = concat(token, "--login", "--pin", "env:KH_USER_PIN");
    run(
        env,
        concat(
            user,
            "--keypairgen",
            "--key-type",
            "rsa:2048",
            "--id",
            "4e52",
            "--label",
            NO_RAW_RSA_KEY,
            "--allowed-mechanisms",
            "RSA-PKCS,RSA-PKCS-PSS"));
    Path pub = root.resolve("noraw-pub.der");
    run(
        env,
        concat(
            user,
            "--read-object",
            "--type",
            "pubkey",
            "--id",
            "4e52",
            "--output-file",
            pub.toString()));
    java.security.PublicKey publicKey =
        java.security.KeyFactory.getInstance("RSA")
            .generatePublic(new java.security.spec.X509EncodedKeySpec(Files.readAllBytes(pub)));
    // The issuer is a throwaway software key: only the public key and the name matter here.
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    java.security.KeyPair issuer = g.generateKeyPair();
    org.bouncycastle.asn1.x500.X500Name dn =
        new org.bouncycastle.asn1.x500.X500Name("CN=" + NO_RAW_RSA_KEY);
    java.time.Instant now = java.time.Instant.now();
    byte[] der =
        new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                new org.bouncycastle.asn1.x500.X500Name("CN=no-raw-rsa test issuer"),
                java.math.BigInteger.valueOf(now.toEpochMilli()),
                java.util.Date.from(now.minusSeconds(3600)),
                java.util.Date.from(now.plusSeconds(86400L * 365)),
                dn,
                publicKey)
            .build(
                new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withRSA")
                    .build(issuer.getPrivate()))
            .getEncoded();
    Path cert = root.resolve("noraw-cert.der");
    Files.write(cert, der);
    run(
        env,
        concat(
            user,
            "--write-object",
            cert.toString(),
            "--type",
            "cert",
            "--id",
            "4e52",
            "--label",
            NO_RAW_RSA_KEY));
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static String output(Map<String, String> env, String... cmd)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  /** The HSM settings of the {@link #NO_RAW_RSA_TOKEN_LABEL} token (same PIN file). */
  public HsmConfig noRawRsaConfig() {
    return new HsmConfig(
        hsmConfig.library(),
        NO_RAW_RSA_TOKEN_LABEL,
        null,
        hsmConfig.pin(),
        hsmConfig.sessions(),
        hsmConfig.queue(),
        hsmConfig.decryptMode(),
        hsmConfig.profile());
  }

  /** The logged-in {@link #NO_RAW_RSA_TOKEN_LABEL} token, opened on first use. */
  public synchronized Pkcs11Token noRawRsaToken() {
    if (noRawRsaToken == null) {
      noRawRsaToken = Pkcs11Token.open(noRawRsaConfig());
    }
    return noRawRsaToken;
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
