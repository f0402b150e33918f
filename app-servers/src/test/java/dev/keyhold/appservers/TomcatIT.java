package dev.keyhold.appservers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A stock Apache Tomcat 10.1 from Maven Central, configured with exactly the README's files
 * (snippets/tomcat and snippets/common), serving HTTPS with RSA and EC keys held by Keyhold; then
 * started while the service is down, and serving as soon as it is back.
 */
class TomcatIT {
  static final Path HOME = Path.of(System.getProperty("keyhold.tomcatHome"));
  static Path base;
  static int httpsPort;
  static int servicePort;

  @BeforeAll
  static void configure() throws Exception {
    // A CATALINA_BASE of this run's own, over the unpacked (untouched) CATALINA_HOME.
    base = HOME.resolveSibling("tomcat-base");
    if (Files.exists(base)) {
      try (var walk = Files.walk(base)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    for (String d : List.of("conf", "bin", "logs", "temp", "work", "webapps", "keyhold")) {
      Files.createDirectories(base.resolve(d));
    }
    try (var conf = Files.list(HOME.resolve("conf"))) {
      for (Path f : conf.toList()) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, base.resolve("conf").resolve(f.getFileName()));
        }
      }
    }
    Files.createDirectories(base.resolve("webapps/ROOT"));
    Files.writeString(base.resolve("webapps/ROOT/index.html"), "hello from tomcat\n");

    httpsPort = Https.freePort();
    // The README's files, as they are.
    Files.copy(
        Https.ALL_JAR,
        base.resolve("keyhold/keyhold-client-all.jar"),
        StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(base.resolve("bin/setenv.sh"), Https.snippet("tomcat/setenv.sh"));
    Files.writeString(
        base.resolve("conf/keyhold.security"), Https.snippet("common/keyhold.security"));
    // server.xml: the README's connector inside <Service>; the stock HTTP connector and the
    // shutdown port moved out of the way of other builds on this machine.
    String xml = Files.readString(base.resolve("conf/server.xml"), StandardCharsets.UTF_8);
    xml =
        xml.replace("<Server port=\"8005\"", "<Server port=\"-1\"")
            .replace("port=\"8080\"", "port=\"0\"")
            .replace(
                "</Service>",
                Https.snippet("tomcat/server-connector.xml")
                        .replace("port=\"8443\"", "port=\"" + httpsPort + "\"")
                    + "  </Service>");
    Files.writeString(base.resolve("conf/server.xml"), xml);
  }

  static Process tomcat;

  /**
   * Starts Tomcat on {@link #httpsPort}; if it could not bind that probed port (taken since the
   * probe), once more on a new one.
   */
  static Process startTomcat(String name) throws Exception {
    if (!launchTomcat(name)) {
      Https.stop(tomcat);
      int port = Https.freePort();
      Path xml = base.resolve("conf/server.xml");
      Files.writeString(
          xml,
          Files.readString(xml, StandardCharsets.UTF_8)
              .replace("port=\"" + httpsPort + "\"", "port=\"" + port + "\""));
      httpsPort = port;
      assertThat(launchTomcat(name + "-retry")).as("Tomcat binds a second probed port").isTrue();
    }
    return tomcat;
  }

  private static boolean launchTomcat(String name) throws Exception {
    Path log = base.resolve("logs/" + name + ".out");
    ProcessBuilder pb =
        new ProcessBuilder("sh", HOME.resolve("bin/catalina.sh").toString(), "run")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("CATALINA_HOME", HOME.toString());
    env.put("CATALINA_BASE", base.toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.remove("CLASSPATH");
    env.remove("JAVA_OPTS");
    env.remove("CATALINA_OPTS");
    tomcat = pb.start();
    return Https.awaitStarted(tomcat, httpsPort, log, TOMCAT_STARTED);
  }

  private static final Pattern TOMCAT_STARTED = Pattern.compile("Server startup in");

  @AfterAll
  static void stop() throws Exception {
    Https.stop(tomcat);
  }

  @Test
  void tomcat_fromReadmeFiles_servesEveryKeyExchange_thenSurvivesTheServiceBeingDown()
      throws Exception {
    Path cache = base.resolve("keyhold-cache");
    // 1. Service up: Tomcat starts, fetches both chains (and caches them), serves every client.
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      servicePort = svc.port(); // bound from 0; the service comes back on it below
      Files.writeString(
          base.resolve("conf/keyhold.properties"), Https.properties(svc, servicePort, cache));
      startTomcat("up");
      Https.assertAllClients(svc, httpsPort, "200");
      Https.stop(tomcat);
    }
    assertThat(cache.resolve("rsa2048.pem")).exists();
    assertThat(cache.resolve("ec-p256.pem")).exists();

    // 2. Service down: Tomcat starts from the cached chains; handshakes fail, visibly in its log.
    startTomcat("down");
    Https.Result failed = Https.curl(httpsPort, List.of("--tlsv1.3"));
    assertThat(failed.out()).isNotEqualTo("200");
    Path log = base.resolve("logs/down.out");
    // The failure is logged as the key operation fails, which may be just after curl gives up.
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
    while (!Files.readString(log).contains("Keyhold sign with key") && System.nanoTime() < end) {
      tomcat.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    assertThat(Files.readString(log)).contains("WARNING").contains("Keyhold sign with key");

    // 3. Service back on its port: HTTPS works, without restarting Tomcat.
    try (TestKeyholdService svc = Https.serviceOn(servicePort)) {
      // Tomcat holds one key store, hence one channel, per <Certificate>: both reconnect.
      assertThat(Https.curlOnceUp(httpsPort, Https.CLIENTS.get(1).curlArgs(), "200").out())
          .isEqualTo("200");
      assertThat(Https.curlOnceUp(httpsPort, Https.CLIENTS.get(2).curlArgs(), "200").out())
          .isEqualTo("200");
      Https.assertAllClients(svc, httpsPort, "200");
    } finally {
      Https.stop(tomcat);
    }
  }
}
