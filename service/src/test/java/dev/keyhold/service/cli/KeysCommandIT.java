package dev.keyhold.service.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.Main;
import dev.keyhold.service.pkcs11.Pkcs11Key;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.KeyObjectAttributes;
import dev.keyhold.service.testing.TestHsm;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code keyhold keys} command, run in-process through picocli against the JVM's SoftHSM
 * token, with stdout and stderr captured: what it prints, what it changes on the token, and the
 * messages of wrong input. No output ever contains the PIN.
 */
class KeysCommandIT {
  private static TestHsm hsm;
  private static String pin;
  @TempDir static Path dir;
  private static Path config;

  record Result(int code, String out, String err) {
    String all() {
      return out + err;
    }
  }

  @BeforeAll
  static void setUp() throws Exception {
    hsm = TestHsm.shared();
    pin = Files.readString(hsm.hsmConfig().pin().file()).strip();
    var pki = hsm.pki();
    config = dir.resolve("keyhold.yaml");
    Files.writeString(
        config,
        String.format(
            """
            tls:
              certChain: %s
              privateKey: %s
              clientCa: %s
            hsm:
              library: %s
              tokenLabel: %s
              pin: { file: %s }
            keys:
              expiryWarningDays: 400
            """,
            pki.cert("server"),
            pki.key("server"),
            pki.caCert(),
            hsm.hsmConfig().library(),
            TestHsm.TOKEN_LABEL,
            hsm.hsmConfig().pin().file()));
  }

  @AfterAll
  static void removeKeys() throws Exception {
    for (Pkcs11Key k : hsm.token().discoverKeys()) {
      if (k.description().name().startsWith("cli-")) {
        run("keys", "delete", "--label", k.description().name(), "--yes");
      }
    }
  }

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CliContext ctx =
        new CliContext(
            h -> {
              assertThat(h.tokenLabel()).isEqualTo(TestHsm.TOKEN_LABEL);
              return hsm.token();
            },
            Map.of("SRC_PASSWORD", "p12-secret"));
    var cl = ctx.commandLine(new Main());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    List<String> full = new ArrayList<>(List.of(args));
    if (!full.get(0).equals("config")) {
      full.add("--config");
      full.add(config.toString());
    }
    int code = cl.execute(full.toArray(new String[0]));
    Result r = new Result(code, out.toString(), err.toString());
    assertThat(r.all()).as("no output shows the PIN").doesNotContain(pin);
    return r;
  }

  private static String block(String list, String label) {
    int i = list.indexOf(label + "\n");
    assertThat(i).as(list).isNotNegative();
    int end = list.indexOf("\n  usages", i);
    return list.substring(i, list.indexOf('\n', end + 1));
  }

  @Test
  void generate_eachCurveAndRsa_createsNonExtractableKeys() throws Exception {
    Result rsa = run("keys", "generate", "--type", "rsa:2048", "--label", "cli-gen-rsa");
    assertThat(rsa.code()).as(rsa.all()).isZero();
    assertThat(rsa.out()).contains("generated cli-gen-rsa (rsa:2048)", "not extractable");
    Result ec = run("keys", "generate", "--type", "ec:p521", "--label", "cli-gen-ec");
    assertThat(ec.code()).as(ec.all()).isZero();

    String list = run("keys", "list").out();
    assertThat(block(list, "cli-gen-rsa"))
        .contains("type         rsa:2048", "sign, decrypt_premaster", "sensitive, not extractable");
    assertThat(block(list, "cli-gen-ec"))
        .contains("type         ec:p521", "usages       sign (sensitive, not extractable)");
    // read back through PKCS#11: labels on all objects, only the usages each key needs
    KeyObjectAttributes.assertKeyObjects("cli-gen-rsa", true, true);
    KeyObjectAttributes.assertKeyObjects("cli-gen-ec", false, true);
  }

  @Test
  void generate_wrongInput_saysWhatIsAllowed() {
    Result type = run("keys", "generate", "--type", "rsa:1000", "--label", "cli-x");
    assertThat(type.code()).isEqualTo(2);
    assertThat(type.err()).contains("--type 'rsa:1000' is not one of rsa:2048, rsa:3072");
    Result label = run("keys", "generate", "--type", "ec:p256", "--label", "bad label");
    assertThat(label.err()).contains("is not a key name");
    Result dup = run("keys", "generate", "--type", "ec:p256", "--label", "ec-p256");
    assertThat(dup.code()).isEqualTo(2);
    assertThat(dup.err()).contains("a key labelled 'ec-p256' already exists");
    Result missing = run("keys", "generate", "--label", "cli-x");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("Missing required option: '--type");
  }

  @Test
  void list_showsEveryFact() throws Exception {
    Result r = run("keys", "list");
    assertThat(r.code()).as(r.all()).isZero();
    Pkcs11Key rsa =
        hsm.token().discoverKeys().stream()
            .filter(k -> k.description().name().equals("rsa2048"))
            .findFirst()
            .orElseThrow();
    String b = block(r.out(), "rsa2048");
    assertThat(b)
        .containsPattern("id +[0-9a-f]+")
        .contains("type         rsa:2048")
        .contains(java.util.HexFormat.of().formatHex(rsa.description().spkiSha256()))
        .contains("certificate  O=Keyhold placeholder, CN=rsa2048 (self-signed placeholder)")
        .contains("sans ")
        .containsPattern("expires +\\d{4}-\\d\\d-\\d\\dT.*\\(in \\d+ days\\)")
        .contains("usages       sign, decrypt_premaster");
  }

  @Test
  void csr_withSans_isSignedByTheHsmKey() throws Exception {
    Result r =
        run(
            "keys",
            "csr",
            "--label",
            "ec-p256",
            "--subject",
            "CN=www.example.com,O=Example",
            "--san",
            "DNS:www.example.com,IP:127.0.0.1,api.example.com");
    assertThat(r.code()).as(r.all()).isZero();
    PKCS10CertificationRequest csr;
    try (PEMParser p = new PEMParser(new StringReader(r.out()))) {
      csr = (PKCS10CertificationRequest) p.readObject();
    }
    var pub =
        hsm.token().discoverKeys().stream()
            .filter(k -> k.description().name().equals("ec-p256"))
            .findFirst()
            .orElseThrow()
            .description()
            .publicKey();
    assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(pub))).isTrue();
    assertThat(csr.getSubject().toString()).isEqualTo("CN=www.example.com,O=Example");
    Extensions ext =
        Extensions.getInstance(
            csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                .getAttrValues()
                .getObjectAt(0));
    GeneralName[] sans =
        GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName).getNames();
    assertThat(sans).hasSize(3);
    assertThat(sans[2].getName().toString()).isEqualTo("api.example.com");

    // the older positional form still works
    Result old = run("keys", "csr", "ec-p256", "--subject", "CN=old");
    assertThat(old.code()).as(old.all()).isZero();
    assertThat(old.out()).startsWith("-----BEGIN CERTIFICATE REQUEST-----");

    Result badSubject = run("keys", "csr", "--label", "ec-p256", "--subject", "www.example.com");
    assertThat(badSubject.err()).contains("is not a distinguished name");
    Result badSan = run("keys", "csr", "--label", "ec-p256", "--subject", "CN=a", "--san", "X:y");
    assertThat(badSan.err()).contains("use DNS:name, IP:address");
    Result noKey = run("keys", "csr", "--label", "cli-none", "--subject", "CN=a");
    assertThat(noKey.err()).contains("no key named 'cli-none'");
  }

  @Test
  void certImport_matchingChain_replacesIt_otherKeysChainIsRefused() throws Exception {
    assertThat(run("keys", "generate", "--type", "ec:p256", "--label", "cli-cert").code()).isZero();
    LocalPki ca = hsm.pki().loadOrCreateCa();
    var pub = publicKey("cli-cert");
    X509Certificate leaf = ca.issueFor("cli.example.com", pub, List.of("cli.example.com"), false);
    Path good = dir.resolve("good.pem");
    Files.writeString(good, LocalPki.pem(leaf, ca.caCertificate()));
    Result ok = run("keys", "cert", "import", "--label", "cli-cert", "--chain", good.toString());
    assertThat(ok.code()).as(ok.all()).isZero();
    assertThat(ok.out())
        .contains("imported the chain of cli-cert (CN=cli.example.com", "2 certificates");
    assertThat(block(run("keys", "list").out(), "cli-cert"))
        .contains("issued by", "DNS:cli.example.com");

    X509Certificate other = ca.issueFor("x", publicKey("ec-p384"), List.of("x"), false);
    Path wrong = dir.resolve("wrong.pem");
    Files.writeString(wrong, LocalPki.pem(other, ca.caCertificate()));
    Result refused =
        run("keys", "cert", "import", "--label", "cli-cert", "--chain", wrong.toString());
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("the certificate's public key is not key 'cli-cert'");

    Path reversed = dir.resolve("reversed.pem");
    Files.writeString(reversed, LocalPki.pem(leaf, LocalPki.create("Other CA").caCertificate()));
    Result order = run("keys", "import-cert", "cli-cert", "--chain", reversed.toString());
    assertThat(order.err()).contains("did not sign certificate 1");

    Result alias = run("keys", "import-cert", "cli-cert", "--chain", good.toString());
    assertThat(alias.code()).as(alias.all()).isZero();
    Result none = run("keys", "cert", "import", "--label", "cli-cert", "--chain", "/nope.pem");
    assertThat(none.err()).contains("--chain /nope.pem does not exist");
  }

  @Test
  void import_pkcs8AndPkcs12_storeSensitiveKeysAndWarn() throws Exception {
    LocalPki ca = hsm.pki().loadOrCreateCa();
    LocalPki.Issued issued = ca.issueServer("imported.example.com", List.of("imported"), List.of());
    Path key = dir.resolve("imported.key");
    Path chain = dir.resolve("imported.pem");
    LocalPki.writePrivate(key, LocalPki.pem(issued.privateKey()));
    Files.writeString(chain, LocalPki.pem(issued.certificate(), ca.caCertificate()));
    Result r =
        run(
            "keys",
            "import",
            "--label",
            "cli-p8",
            "--pkcs8",
            key.toString(),
            "--chain",
            chain.toString());
    assertThat(r.code()).as(r.all()).isZero();
    assertThat(r.err()).contains("WARNING: key 'cli-p8' was created outside an HSM");
    assertThat(r.out()).contains("imported cli-p8", "sensitive, not extractable");
    assertThat(block(run("keys", "list").out(), "cli-p8"))
        .contains("ec:p256", "(sensitive, not extractable)", "DNS:imported");
    KeyObjectAttributes.assertKeyObjects("cli-p8", false, false);

    KeyStore p12 = KeyStore.getInstance("PKCS12");
    p12.load(null, null);
    p12.setKeyEntry(
        "k",
        issued.privateKey(),
        "p12-secret".toCharArray(),
        new Certificate[] {issued.certificate(), ca.caCertificate()});
    Path p12File = dir.resolve("imported.p12");
    try (var os = Files.newOutputStream(p12File)) {
      p12.store(os, "p12-secret".toCharArray());
    }
    Result wrongPw = run("keys", "import", "--label", "cli-p12", "--pkcs12", p12File.toString());
    assertThat(wrongPw.err()).contains("wrong password, or not PKCS#12");
    Result p =
        run(
            "keys",
            "import",
            "--label",
            "cli-p12",
            "--pkcs12",
            p12File.toString(),
            "--password-env",
            "SRC_PASSWORD");
    assertThat(p.code()).as(p.all()).isZero();
    assertThat(p.err()).contains("WARNING");
    assertThat(p.all()).doesNotContain("p12-secret");

    LocalPki.Issued another = ca.issueServer("another", List.of("another"), List.of());
    Path mismatched = dir.resolve("another.pem");
    Files.writeString(mismatched, LocalPki.pem(another.certificate()));
    Result mis =
        run(
            "keys",
            "import",
            "--label",
            "cli-mis",
            "--pkcs8",
            key.toString(),
            "--chain",
            mismatched.toString());
    assertThat(mis.err()).contains("the certificate's public key is not the imported private key");
    Result noChain = run("keys", "import", "--label", "cli-mis", "--pkcs8", key.toString());
    assertThat(noChain.err()).contains("--pkcs8 needs --chain");
    Result both =
        run(
            "keys",
            "import",
            "--label",
            "cli-mis",
            "--pkcs8",
            key.toString(),
            "--pkcs12",
            p12File.toString());
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("mutually exclusive");
  }

  @Test
  void delete_withoutTerminalOrYes_refuses_withYes_deletes() throws Exception {
    assertThat(run("keys", "generate", "--type", "ec:p256", "--label", "cli-del").code()).isZero();
    Result refused = run("keys", "delete", "--label", "cli-del");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("no terminal to confirm on; pass --yes");
    assertThat(run("keys", "list").out()).contains("cli-del\n");

    Result ok = run("keys", "delete", "--label", "cli-del", "--yes");
    assertThat(ok.code()).as(ok.all()).isZero();
    assertThat(ok.out()).contains("deleted cli-del");
    assertThat(run("keys", "list").out()).doesNotContain("cli-del\n");
    assertThat(run("keys", "delete", "--label", "cli-del", "--yes").err())
        .contains("no key named 'cli-del'");
  }

  @Test
  void configCheck_goodAndBrokenFiles() throws Exception {
    Result good = run("config", "check", config.toString());
    assertThat(good.code()).as(good.all()).isZero();
    assertThat(good.out()).contains(": ok");
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(
        broken, Files.readString(config).replace("tokenLabel:", "tokenLable:") + "extra: 1\n");
    Result bad = run("config", "check", broken.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err().lines())
        .hasSize(2)
        .anySatisfy(l -> assertThat(l).contains("unknown field 'hsm.tokenLable'"))
        .anySatisfy(l -> assertThat(l).contains("unknown field 'extra'"));
  }

  private static java.security.PublicKey publicKey(String name) {
    return hsm.token().discoverKeys().stream()
        .filter(k -> k.description().name().equals(name))
        .findFirst()
        .orElseThrow()
        .description()
        .publicKey();
  }
}
