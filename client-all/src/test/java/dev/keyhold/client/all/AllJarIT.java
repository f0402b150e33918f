package dev.keyhold.client.all;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one client jar: self-contained, relocated, and usable by name from a bare JVM. */
class AllJarIT {
  static final Path JAR = Path.of(System.getProperty("keyhold.allJar"));

  @Test
  void jar_holdsOnlyKeyholdClassesWithDependenciesRelocated() throws IOException {
    List<String> foreign = new ArrayList<>();
    boolean provider = false;
    boolean channelProvider = false;
    try (JarFile jar = new JarFile(JAR.toFile())) {
      for (ZipEntry e : java.util.Collections.list(jar.entries())) {
        String n = e.getName();
        if (n.endsWith(".class") && !n.startsWith("dev/keyhold/")) {
          foreign.add(n);
        }
        provider |= n.equals("dev/keyhold/client/jca/KeyholdProvider.class");
        channelProvider |=
            n.equals("META-INF/services/dev.keyhold.shaded.io.grpc.ManagedChannelProvider");
        assertThat(n).doesNotStartWith("dev/keyhold/client/netty/");
        assertThat(n).doesNotStartWith("dev/keyhold/service/");
      }
    }
    assertThat(foreign).isEmpty();
    assertThat(provider).isTrue();
    assertThat(channelProvider).isTrue();
  }

  @Test
  void bareJvm_withOnlyTheJar_registersProviderByNameAndHandshakesThroughTheService(
      @TempDir Path dir) throws Exception {
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
      Path security = dir.resolve("keyhold.security");
      // The next number after the JDK's own twelve (OpenJDK 17 to 25); the JDK stops at a gap.
      Files.writeString(security, "security.provider.13=dev.keyhold.client.jca.KeyholdProvider\n");
      Path probeClasses =
          Path.of(HandshakeProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      long signs = svc.metrics().count("sign", "ok");
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Djava.security.properties=" + security,
                  "-cp",
                  JAR + java.io.File.pathSeparator + probeClasses,
                  HandshakeProbe.class.getName(),
                  props.toString(),
                  "rsa2048")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out)
          .contains("protocol=TLSv1.3 ")
          .contains(" reply=ok")
          .contains(JAR.getFileName().toString());
      assertThat(svc.metrics().count("sign", "ok")).isEqualTo(signs + 1);
    }
  }
}
