package dev.keyhold.client.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.testing.KeyholdJvm;
import dev.keyhold.service.testing.TestHsm;
import dev.keyhold.service.testing.TestKeyholdService;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate rotation as an operator does it, for tests: keys generated and chains imported with
 * the real {@code keyhold keys} command line, run as a separate {@code keyhold} process, renewed
 * certificates issued by a throwaway software CA, and the leaf certificate a real {@code openssl
 * s_client} process receives.
 */
public final class Rotation {
  private static final AtomicInteger SERIALS = new AtomicInteger();
  private final TestKeyholdService svc;
  private final Path dir;
  private final Path config;
  private final KeyPair ca;
  private final X509Certificate caCert;

  public Rotation(TestKeyholdService svc, Path dir) throws Exception {
    this.svc = svc;
    this.dir = dir;
    TestHsm hsm = svc.hsm();
    var pki = hsm.pki();
    this.config = dir.resolve("keyhold-cli.yaml");
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
            """,
            pki.cert("server"),
            pki.key("server"),
            pki.caCert(),
            hsm.hsmConfig().library(),
            TestHsm.TOKEN_LABEL,
            hsm.hsmConfig().pin().file()));
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    this.ca = g.generateKeyPair();
    this.caCert = issue(new X500Name("CN=Keyhold rotation test CA"), ca.getPublic());
  }

  /** The CA that issues the renewed certificates. */
  public X509Certificate caCert() {
    return caCert;
  }

  /**
   * {@code keyhold ARGS --config ...} as a child JVM ({@code java -cp <test classpath>
   * dev.keyhold.service.Main}) with this JVM's {@code SOFTHSM2_CONF}; the PIN comes from the
   * config's PIN file, never from the command line. Waits at most two minutes and fails the test on
   * a timeout or a non-zero exit; returns what it printed.
   *
   * <p>A separate process, as an operator's {@code keyhold} is: inside one SoftHSM instance (one
   * process) a key generation racing the in-process service's re-scan sometimes failed with
   * CKR_GENERAL_ERROR or left a half-made key; across processes SoftHSM serialises through its
   * token files.
   */
  public String keyhold(String... args) {
    List<String> cmd =
        new ArrayList<>(KeyholdJvm.command(List.of("-Xmx128m", "-XX:TieredStopAtLevel=1"), args));
    cmd.add("--config");
    cmd.add(config.toString());
    String what = String.join(" ", args);
    try {
      Path log = Files.createTempFile(dir, "keyhold-cli-", ".log");
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
      pb.environment().put("SOFTHSM2_CONF", svc.hsm().softhsmConf().toString());
      Process p = pb.start();
      p.getOutputStream().close();
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            "keyhold " + what + " timed out:\n" + Files.readString(log, StandardCharsets.UTF_8));
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("keyhold " + what + ":\n" + out).isZero();
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("keyhold " + what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while keyhold " + what + " ran", e);
    }
  }

  /** {@code keyhold keys generate --type TYPE --label LABEL}, checking that it says so. */
  public void generate(String label, String type) {
    assertThat(keyhold("keys", "generate", "--type", type, "--label", label))
        .contains("generated " + label + " (" + type + ")");
  }

  /** {@code keyhold keys delete --label LABEL --yes}, checking that it says so. */
  public void delete(String label) {
    assertThat(keyhold("keys", "delete", "--label", label, "--yes")).contains("deleted " + label);
  }

  /** The service's current description of key {@code name}, or null. */
  public KeyDescription served(String name) {
    return svc.server().keys().stream().filter(k -> k.name().equals(name)).findFirst().orElse(null);
  }

  /**
   * Issues a renewed certificate for key {@code name} (its public key as the service serves it),
   * with subject {@code CN=<cn>} and a fresh serial, and imports it with {@code keys cert import}.
   */
  public X509Certificate renew(String name, String cn) throws Exception {
    KeyDescription d = served(name);
    assertThat(d).as("key %s is served", name).isNotNull();
    return renew(name, cn, d.publicKey());
  }

  /** As {@link #renew(String, String)} for a given public key (the key now under that name). */
  public X509Certificate renew(String name, String cn, PublicKey key) throws Exception {
    X509Certificate leaf = issue(new X500Name("CN=" + cn), key);
    Path pem = dir.resolve(name + "-" + leaf.getSerialNumber() + ".pem");
    Files.writeString(pem, pem(leaf) + pem(caCert), StandardCharsets.US_ASCII);
    String out = keyhold("keys", "cert", "import", "--label", name, "--chain", pem.toString());
    assertThat(out).contains("imported the chain of " + name);
    return leaf;
  }

  private X509Certificate issue(X500Name subject, PublicKey key) throws Exception {
    Instant now = Instant.now();
    BigInteger serial =
        BigInteger.valueOf(SERIALS.incrementAndGet())
            .shiftLeft(32)
            .or(BigInteger.valueOf(new SecureRandom().nextInt() & 0x7fffffffL));
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            caCert == null ? subject : new X500Name(caCert.getSubjectX500Principal().getName()),
            serial,
            Date.from(now.minusSeconds(3600)),
            Date.from(now.plus(Duration.ofDays(30))),
            subject,
            SubjectPublicKeyInfo.getInstance(key.getEncoded()));
    b.addExtension(
        org.bouncycastle.asn1.x509.Extension.basicConstraints,
        true,
        new org.bouncycastle.asn1.x509.BasicConstraints(caCert == null));
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
  }

  private static String pem(X509Certificate c) throws Exception {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(c.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }

  /** Polls {@code done} (every 20 ms) for at most 30 s: waits for an outcome, never for a time. */
  public static void await(String what, BooleanSupplier done) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(20);
    }
  }

  /**
   * The leaf certificate a real {@code openssl s_client} process receives from 127.0.0.1:{@code
   * port} (extra options appended), after a complete handshake.
   */
  public static X509Certificate opensslLeaf(int port, String... options)
      throws IOException, InterruptedException, java.security.cert.CertificateException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "localhost"));
    cmd.addAll(List.of(options));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close(); // EOF on stdin: s_client exits after the handshake
    StringBuilder out = new StringBuilder();
    Thread reader =
        new Thread(
            () -> {
              try (InputStream o = p.getInputStream()) {
                out.append(new String(o.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException ignored) {
                // killed
              }
            });
    reader.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      reader.join(5000);
      throw new AssertionError("openssl s_client timed out:\n" + out);
    }
    reader.join(5000);
    String text = out.toString();
    int begin = text.indexOf("-----BEGIN CERTIFICATE-----");
    int end = text.indexOf("-----END CERTIFICATE-----");
    assertThat(begin).as("openssl printed the server certificate:\n" + text).isNotNegative();
    assertThat(text).as(text).containsPattern("(New|Reused), TLSv1\\.[23]");
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(
                    text.substring(begin, end + 25).getBytes(StandardCharsets.US_ASCII)));
  }
}
