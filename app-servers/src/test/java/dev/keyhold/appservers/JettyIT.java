package dev.keyhold.appservers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A stock Jetty 12 (jetty-home from Maven Central) with a JETTY_BASE made of exactly the README's
 * files (snippets/jetty and snippets/common) and its two commands: serves HTTPS with RSA and EC
 * keys held by Keyhold; then starts while the service is down, and serves once it is back. No web
 * application is deployed, so Jetty answers 404: what counts is the handshake.
 */
class JettyIT {
  static final Path HOME = Path.of(System.getProperty("keyhold.jettyHome"));
  static final String NO_CONTEXT = "404";
  static Path base;
  static int httpsPort;
  static int servicePort;
  static Process jetty;

  @BeforeAll
  static void configure() throws Exception {
    base = HOME.resolveSibling("jetty-base");
    if (Files.exists(base)) {
      try (var walk = Files.walk(base)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    for (String d : List.of("modules", "etc", "lib/keyhold", "logs")) {
      Files.createDirectories(base.resolve(d));
    }
    Files.copy(
        Https.ALL_JAR,
        base.resolve("lib/keyhold/keyhold-client-all.jar"),
        StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(base.resolve("modules/keyhold.mod"), Https.snippet("jetty/keyhold.mod"));
    Files.writeString(base.resolve("etc/keyhold.xml"), Https.snippet("jetty/keyhold.xml"));
    Files.writeString(
        base.resolve("etc/keyhold.security"), Https.snippet("common/keyhold.security"));
    httpsPort = Https.freePort();
    // The README's first command: enable the modules.
    Https.Result r = Https.run(startCommand(0), "");
    assertThat(r.exit()).as(r.out()).isZero();
  }

  /** The README's n-th {@code java -jar start.jar ...} line, run in JETTY_BASE. */
  static List<String> startCommand(int n, String... extra) throws Exception {
    List<String> lines =
        Https.snippet("jetty/commands.sh").lines().filter(l -> l.startsWith("java -jar")).toList();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String w : lines.get(n).split(" ")) {
      if (w.equals("java")) {
        continue;
      }
      cmd.add(w.replace("\"$JETTY_HOME/start.jar\"", HOME.resolve("start.jar").toString()));
    }
    cmd.add("jetty.home=" + HOME);
    cmd.add("jetty.base=" + base);
    cmd.addAll(Arrays.asList(extra));
    return cmd;
  }

  /**
   * Starts Jetty on {@link #httpsPort}; if it could not bind that probed port (taken since the
   * probe), once more on a new one.
   */
  static void startJetty(String name) throws Exception {
    if (!launchJetty(name)) {
      Https.stop(jetty);
      httpsPort = Https.freePort();
      assertThat(launchJetty(name + "-retry")).as("Jetty binds a second probed port").isTrue();
    }
  }

  private static boolean launchJetty(String name) throws Exception {
    Path log = base.resolve("logs/" + name + ".out");
    ProcessBuilder pb =
        new ProcessBuilder(
                startCommand(
                    1,
                    "jetty.ssl.port=" + httpsPort,
                    "jetty.ssl.host=127.0.0.1",
                    // The HSM's placeholder certificates name the key, not this host.
                    "jetty.ssl.sniHostCheck=false"))
            .directory(base.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.remove("JAVA_OPTIONS");
    jetty = pb.start();
    return Https.awaitStarted(jetty, httpsPort, log, JETTY_STARTED);
  }

  private static final Pattern JETTY_STARTED = Pattern.compile("Started (oejs\\.)?Server@");

  @AfterAll
  static void stop() throws Exception {
    Https.stop(jetty);
  }

  @Test
  void jetty_fromReadmeFiles_servesEveryKeyExchange_thenSurvivesTheServiceBeingDown()
      throws Exception {
    Path cache = base.resolve("keyhold-cache");
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      servicePort = svc.port(); // bound from 0; the service comes back on it below
      Files.writeString(
          base.resolve("etc/keyhold.properties"), Https.properties(svc, servicePort, cache));
      startJetty("up");
      Https.assertAllClients(svc, httpsPort, NO_CONTEXT);
      Https.stop(jetty);
    }
    assertThat(cache.resolve("rsa2048.pem")).exists();

    startJetty("down");
    assertThat(Https.curl(httpsPort, List.of("--tlsv1.3")).out()).isNotEqualTo(NO_CONTEXT);
    try (TestKeyholdService svc = Https.serviceOn(servicePort)) {
      assertThat(Https.curlOnceUp(httpsPort, Https.CLIENTS.get(1).curlArgs(), NO_CONTEXT).out())
          .isEqualTo(NO_CONTEXT);
      Https.assertAllClients(svc, httpsPort, NO_CONTEXT);
    } finally {
      Https.stop(jetty);
    }
  }
}
