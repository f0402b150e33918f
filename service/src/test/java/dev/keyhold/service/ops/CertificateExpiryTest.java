package dev.keyhold.service.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.setup.LocalPki;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CertificateExpiryTest {
  private static KeyDescription web;
  private static Instant notAfter;

  @BeforeAll
  static void certificate() throws Exception {
    LocalPki ca = LocalPki.create("Expiry test CA");
    X509Certificate leaf = ca.issueServer("web", List.of("web"), List.of()).certificate();
    web = KeyDescription.of("web", List.of(leaf, ca.caCertificate()));
    notAfter = leaf.getNotAfter().toInstant();
  }

  private static Clock at(Duration beforeExpiry) {
    return Clock.fixed(notAfter.minus(beforeExpiry), ZoneOffset.UTC);
  }

  @Test
  void watch_gaugePerKey_secondsUntilNotAfter() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CertificateExpiry.watch(List.of(web), 30, registry, at(Duration.ofDays(100)));
    assertThat(registry.scrape())
        .contains("keyhold_key_certificate_expiry_seconds{key=\"web\"} 8640000");
  }

  @Test
  void warnings_outsideTheWindow_none() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CertificateExpiry e =
        CertificateExpiry.watch(List.of(web), 30, registry, at(Duration.ofDays(100)));
    assertThat(e.warnings()).isEmpty();

    CertificateExpiry soon =
        CertificateExpiry.watch(
            List.of(web),
            30,
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            at(Duration.ofDays(31)));
    assertThat(soon.warnings()).isEmpty();
  }

  @Test
  void warnings_whenTheWindowIsReached_warnOnce_andExpiredSaysSo() {
    MovableClock clock = new MovableClock(notAfter.minus(Duration.ofDays(100)));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CertificateExpiry e = CertificateExpiry.watch(List.of(web), 30, registry, clock);
    assertThat(e.warnings()).isEmpty();
    clock.now = notAfter.minus(Duration.ofDays(10).plusHours(1));
    assertThat(e.warnings()).singleElement().asString().contains("key 'web' expires", "in 10 days");
    assertThat(e.warnings()).as("once per key").isEmpty();

    MovableClock late = new MovableClock(notAfter.plus(Duration.ofDays(2)));
    CertificateExpiry expired = CertificateExpiry.watch(List.of(web), 30, registry(), late);
    assertThat(expired.warnings()).as("warned at start-up already").isEmpty();
    assertThat(registry().scrape()).isNotNull();

    CertificateExpiry off = CertificateExpiry.watch(List.of(web), 0, registry(), late);
    late.now = notAfter.plus(Duration.ofDays(3));
    assertThat(off.warnings()).isEmpty();
  }

  @Test
  void watch_expiredAtStartup_warnsThatItExpired() {
    PrometheusMeterRegistry registry = registry();
    MovableClock clock = new MovableClock(notAfter.minus(Duration.ofDays(40)));
    CertificateExpiry e = CertificateExpiry.watch(List.of(web), 30, registry, clock);
    clock.now = notAfter.plus(Duration.ofDays(2));
    assertThat(e.warnings()).singleElement().asString().contains("EXPIRED");
    assertThat(registry.scrape()).contains("keyhold_key_certificate_expiry_seconds{key=\"web\"} -");
  }

  private static PrometheusMeterRegistry registry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    volatile Instant now;

    MovableClock(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
