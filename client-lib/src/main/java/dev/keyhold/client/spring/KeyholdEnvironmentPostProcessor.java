package dev.keyhold.client.spring;

import dev.keyhold.client.jca.KeyholdProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Spring Boot 3: installs {@link KeyholdProvider} while the environment is prepared, before any web
 * server or SSL bundle loads its key store, so that an application needs only this library as a
 * dependency and {@code server.ssl.key-store-type=Keyhold}, {@code
 * server.ssl.key-store-provider=Keyhold} and {@code server.ssl.key-store=<properties file>}. Listed
 * in {@code META-INF/spring.factories}; Spring Boot is an optional dependency.
 */
public final class KeyholdEnvironmentPostProcessor implements EnvironmentPostProcessor {
  /** Public: Spring Boot creates it. */
  public KeyholdEnvironmentPostProcessor() {}

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    KeyholdProvider.install();
  }
}
