package dev.keyhold.appservers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot 3.5 web application (embedded Tomcat) whose only Keyhold configuration is the
 * dependency and the README's {@code application.properties}: the provider is registered by the
 * library's EnvironmentPostProcessor, before the web server loads the key store.
 */
class SpringBootIT {
  /** The application: one endpoint, nothing about Keyhold. */
  @SpringBootApplication
  @RestController
  static class App {
    @GetMapping("/")
    String hello() {
      return "hello from spring boot\n";
    }
  }

  static ConfigurableApplicationContext start(Path config) {
    SpringApplication app = new SpringApplication(App.class);
    return app.run("--spring.config.additional-location=file:" + config);
  }

  /** The port Spring Boot's server bound ({@code server.port=0}). */
  static int httpsPort(ConfigurableApplicationContext ctx) {
    return Integer.parseInt(ctx.getEnvironment().getRequiredProperty("local.server.port"));
  }

  /** Clients for the one RSA key Spring Boot serves: TLS 1.3, ECDHE-RSA and RSA key exchange. */
  static final List<Https.Client> RSA_CLIENTS =
      List.of(Https.CLIENTS.get(0), Https.CLIENTS.get(1), Https.CLIENTS.get(3));

  @Test
  void springBoot_dependencyAndProperties_servesRsaKeyExchanges_thenSurvivesTheServiceBeingDown(
      @TempDir Path dir) throws Exception {
    assertThat(Security.getProvider("Keyhold")).as("nobody installed it before Spring").isNull();
    Path cache = dir.resolve("cache");
    Path keystore = dir.resolve("keyhold.properties");
    Path config = dir.resolve("application.properties");
    Files.writeString(
        config,
        Https.snippet("spring/application.properties")
            .replace("server.port=8443", "server.port=0")
            .replace("file:/etc/keyhold/keyhold.properties", "file:" + keystore));
    int servicePort;
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      servicePort = svc.port(); // bound from 0; the service comes back on it below
      Files.writeString(keystore, Https.properties(svc, servicePort, cache));
      try (ConfigurableApplicationContext ctx = start(config)) {
        int httpsPort = httpsPort(ctx);
        assertThat(Security.getProvider("Keyhold")).isNotNull();
        Https.assertClients(svc, httpsPort, "200", RSA_CLIENTS);
      }
    }
    assertThat(cache.resolve("rsa2048.pem")).exists();

    try (ConfigurableApplicationContext ctx = start(config)) {
      int httpsPort = httpsPort(ctx);
      assertThat(Https.curl(httpsPort, List.of("--tlsv1.3")).out()).isNotEqualTo("200");
      try (TestKeyholdService svc = Https.serviceOn(servicePort)) {
        assertThat(Https.curlOnceUp(httpsPort, List.of("--tlsv1.3"), "200").out()).isEqualTo("200");
        Https.assertClients(svc, httpsPort, "200", RSA_CLIENTS);
      }
    }
  }
}
