package dev.keyhold.client.all;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JSSE handshakes through the one jar on the newest JDK installed beside the build's (found under
 * /usr/lib/jvm, never assumed): TLS 1.3 and ECDHE-RSA as they are, and RSA key exchange, which
 * newer JDKs disable, only with the README's {@code jdk.tls.disabledAlgorithms} override.
 */
class NewestJdkIT {
  static final Path SECURITY =
      Path.of(System.getProperty("keyhold.snippets"), "common", "keyhold.security");

  /** The installed JDK with the highest feature version, if it is newer than 17. */
  static Optional<Path> newestJdk() throws IOException {
    Path root = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(d -> Files.isExecutable(d.resolve("bin/java")))
          .filter(d -> Files.isRegularFile(d.resolve("release")))
          .filter(d -> feature(d) > 17)
          .max(Comparator.comparingInt(NewestJdkIT::feature));
    }
  }

  static int feature(Path jdk) {
    try {
      for (String line : Files.readAllLines(jdk.resolve("release"), StandardCharsets.UTF_8)) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          return Integer.parseInt(v.split("[.+-]")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  record Run(int exit, String out) {}

  static Run probe(Path jdk, Path props, Path security, String... args) throws Exception {
    Path probeClasses =
        Path.of(HandshakeProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> cmd = new ArrayList<>();
    cmd.add(jdk.resolve("bin/java").toString());
    cmd.add("-Djava.security.properties=" + security);
    cmd.add("-cp");
    cmd.add(AllJarIT.JAR + java.io.File.pathSeparator + probeClasses);
    cmd.add(HandshakeProbe.class.getName());
    cmd.add(props.toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }

  @Test
  void newestJdk_tls13AndEcdhe_andRsaKeyExchangeOnlyWithTheReadmeOverride(@TempDir Path dir)
      throws Exception {
    Optional<Path> jdk = newestJdk();
    Assumptions.assumeTrue(
        jdk.isPresent(), "no JDK newer than 17 under /usr/lib/jvm: newest-JDK handshakes skipped");
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      Path props = dir.resolve("keyhold.properties");
      Files.writeString(
          props,
          String.join(
              "\n",
              "target=" + svc.target(),
              "ca=" + svc.caCert(),
              "cert=" + svc.clientCert("test-client"),
              "key=" + svc.clientKey("test-client"),
              "authority=localhost",
              "deadline=10s",
              "keys=rsa2048",
              ""));
      // The provider line alone: the JDK's own disabledAlgorithms stay in force.
      Path providerOnly = dir.resolve("provider-only.security");
      Files.writeString(
          providerOnly,
          Files.readAllLines(SECURITY, StandardCharsets.UTF_8).stream()
                  .filter(l -> l.startsWith("security.provider."))
                  .findFirst()
                  .orElseThrow()
              + "\n");

      long signs = svc.metrics().count("sign", "ok");
      Run tls13 = probe(jdk.get(), props, providerOnly, "rsa2048", "TLSv1.3");
      assertThat(tls13.exit()).as(tls13.out()).isZero();
      assertThat(tls13.out()).contains("protocol=TLSv1.3");
      Run ecdhe =
          probe(
              jdk.get(),
              props,
              providerOnly,
              "rsa2048",
              "TLSv1.2",
              "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(ecdhe.exit()).as(ecdhe.out()).isZero();
      assertThat(ecdhe.out()).contains("suite=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(svc.metrics().count("sign", "ok")).isEqualTo(signs + 2);

      long decrypts = svc.metrics().count("decrypt_premaster", "ok");
      Run disabled =
          probe(
              jdk.get(),
              props,
              providerOnly,
              "rsa2048",
              "TLSv1.2",
              "TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(disabled.exit())
          .as("RSA key exchange is off by default on %s", jdk.get())
          .isNotZero();
      Run kept =
          probe(
              jdk.get(), props, SECURITY, "rsa2048", "TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(kept.exit()).as(kept.out()).isZero();
      assertThat(kept.out()).contains("suite=TLS_RSA_WITH_AES_128_GCM_SHA256");
      assertThat(svc.metrics().count("decrypt_premaster", "ok")).isEqualTo(decrypts + 1);
    }
  }
}
