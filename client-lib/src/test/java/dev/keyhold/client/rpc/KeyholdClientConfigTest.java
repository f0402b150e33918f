package dev.keyhold.client.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Validation, defaults and target forms of the client config, and the service config it yields. */
class KeyholdClientConfigTest {
  private static final Path CA = Path.of("ca.pem");
  private static final Path CERT = Path.of("client.pem");
  private static final Path KEY = Path.of("client.key");

  private static KeyholdClientConfig.Builder base() {
    return KeyholdClientConfig.builder()
        .target("localhost:8443")
        .trustedCa(CA)
        .clientCertificate(CERT, KEY);
  }

  @Test
  void build_onlyRequired_documentedDefaults() {
    KeyholdClientConfig c = base().build();
    assertThat(c.target()).isEqualTo("localhost:8443");
    assertThat(c.targets()).containsExactly("localhost:8443");
    assertThat(c.trustedCa()).isEqualTo(CA);
    assertThat(c.clientCertificate()).isEqualTo(CERT);
    assertThat(c.clientKey()).isEqualTo(KEY);
    assertThat(c.deadline()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.maxAttempts()).isEqualTo(3);
    assertThat(c.authority()).isNull();
    assertThat(c.hedgingDelay()).isNull();
    assertThat(c.maxInFlight()).isEqualTo(1024);
    assertThat(c.healthCheck()).isTrue();
    assertThat(c.keyRefreshInterval()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void toBuilder_everyField_copied() {
    KeyholdClientConfig c =
        base()
            .targets(List.of("a:1", "b:2"))
            .deadline(Duration.ofMillis(750))
            .maxAttempts(4)
            .authority("keyhold.example")
            .hedgingDelay(Duration.ofMillis(30))
            .maxInFlight(7)
            .healthCheck(false)
            .keyRefreshInterval(Duration.ZERO)
            .build();
    KeyholdClientConfig copy = c.toBuilder().build();
    assertThat(copy.targets()).containsExactly("a:1", "b:2");
    assertThat(copy.trustedCa()).isEqualTo(CA);
    assertThat(copy.clientCertificate()).isEqualTo(CERT);
    assertThat(copy.clientKey()).isEqualTo(KEY);
    assertThat(copy.deadline()).isEqualTo(Duration.ofMillis(750));
    assertThat(copy.maxAttempts()).isEqualTo(4);
    assertThat(copy.authority()).isEqualTo("keyhold.example");
    assertThat(copy.hedgingDelay()).isEqualTo(Duration.ofMillis(30));
    assertThat(copy.maxInFlight()).isEqualTo(7);
    assertThat(copy.healthCheck()).isFalse();
    assertThat(copy.keyRefreshInterval()).isEqualTo(Duration.ZERO);
  }

  @Test
  void build_missingRequired_namesTheField() {
    assertThatThrownBy(() -> base().target(null).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessage("target");
    assertThatThrownBy(() -> base().trustedCa(null).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessage("trustedCa");
    assertThatThrownBy(() -> base().clientCertificate(null, KEY).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessage("clientCertificate");
    assertThatThrownBy(() -> base().clientCertificate(CERT, null).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessage("clientKey");
  }

  @Test
  void target_commaList_staticTargetOverAllAddresses() {
    KeyholdClientConfig c = base().target(" h1:1, h2:2 ,").build();
    assertThat(c.targets()).containsExactly("h1:1", "h2:2");
    assertThat(c.target()).isEqualTo("static:///h1:1,h2:2");
  }

  @Test
  void target_schemeWithComma_keptAsOneTarget() {
    KeyholdClientConfig c = base().target(" static:///h1:1,h2:2 ").build();
    assertThat(c.targets()).containsExactly("static:///h1:1,h2:2");
    assertThat(c.target()).isEqualTo("static:///h1:1,h2:2");
    assertThat(base().target("dns:///keyhold:8443").build().target())
        .isEqualTo("dns:///keyhold:8443");
  }

  @Test
  void target_blank_refused() {
    assertThatThrownBy(() -> base().target("  "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target is empty");
  }

  @Test
  void targets_oneElement_sameAsTarget() {
    KeyholdClientConfig c = base().targets(List.of(" only:9 ", "")).build();
    assertThat(c.targets()).containsExactly("only:9");
    assertThat(c.target()).isEqualTo("only:9");
    // One element is taken as given, like target(): any scheme, not only host:port.
    assertThat(base().targets(List.of("dns:///keyhold:8443")).build().target())
        .isEqualTo("dns:///keyhold:8443");
  }

  @Test
  void targets_onlyBlanks_refused() {
    assertThatThrownBy(() -> base().targets(List.of(" ", "")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("no target in");
  }

  @Test
  void targets_badAddressInList_refusedEarly() {
    assertThatThrownBy(() -> base().targets(List.of("h1:1", "h2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad Keyhold address 'h2'");
    assertThatThrownBy(() -> base().target("h1:1,h2:0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'h2:0'");
  }

  @Test
  void targets_copiedDefensively() {
    java.util.ArrayList<String> list = new java.util.ArrayList<>(List.of("a:1", "b:2"));
    KeyholdClientConfig c = base().targets(list).build();
    list.add("c:3");
    assertThat(c.targets()).containsExactly("a:1", "b:2");
    assertThatThrownBy(() -> c.targets().add("d:4"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void deadline_zeroOrNegative_refused() {
    assertThatThrownBy(() -> base().deadline(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadline must be positive");
    assertThatThrownBy(() -> base().deadline(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(base().deadline(Duration.ofNanos(1)).build().deadline())
        .isEqualTo(Duration.ofNanos(1));
  }

  @Test
  void maxAttempts_bounds_oneToFiveInclusive() {
    assertThat(base().maxAttempts(1).build().maxAttempts()).isEqualTo(1);
    assertThat(base().maxAttempts(5).build().maxAttempts()).isEqualTo(5);
    for (int bad : new int[] {0, 6, -1}) {
      assertThatThrownBy(() -> base().maxAttempts(bad))
          .as("%d", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("maxAttempts must be 1..5");
    }
  }

  @Test
  void hedgingDelay_zeroOrNegative_refusedNullTurnsOff() {
    assertThatThrownBy(() -> base().hedgingDelay(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("hedgingDelay must be positive");
    assertThatThrownBy(() -> base().hedgingDelay(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class);
    KeyholdClientConfig on = base().hedgingDelay(Duration.ofNanos(1)).build();
    assertThat(on.hedgingDelay()).isEqualTo(Duration.ofNanos(1));
    assertThat(on.toBuilder().hedgingDelay(null).build().hedgingDelay()).isNull();
  }

  @Test
  void build_hedgingWithOneAttempt_refused() {
    assertThatThrownBy(() -> base().maxAttempts(1).hedgingDelay(Duration.ofMillis(10)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("hedging needs maxAttempts of at least 2");
    assertThat(base().maxAttempts(2).hedgingDelay(Duration.ofMillis(10)).build().maxAttempts())
        .isEqualTo(2);
    assertThat(base().maxAttempts(1).build().maxAttempts()).isEqualTo(1);
  }

  @Test
  void maxInFlight_belowOne_refused() {
    assertThat(base().maxInFlight(1).build().maxInFlight()).isEqualTo(1);
    assertThatThrownBy(() -> base().maxInFlight(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxInFlight must be at least 1");
  }

  @Test
  void keyRefreshInterval_negative_refusedZeroAllowed() {
    assertThat(base().keyRefreshInterval(Duration.ZERO).build().keyRefreshInterval()).isZero();
    assertThatThrownBy(() -> base().keyRefreshInterval(Duration.ofNanos(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyRefreshInterval must not be negative");
  }

  // KeyholdClient.serviceConfig: what the channel is told about balancing, health and retries.

  @Test
  void serviceConfig_defaults_roundRobinHealthAndRetryUnavailable() {
    Map<String, Object> sc = KeyholdClient.serviceConfig(base().build());
    assertThat(sc.get("loadBalancingConfig")).isEqualTo(List.of(Map.of("round_robin", Map.of())));
    assertThat(sc.get("healthCheckConfig"))
        .isEqualTo(Map.of("serviceName", "keyhold.v1.KeyService"));
    Map<?, ?> method = onlyMethodConfig(sc);
    assertThat(method.get("name")).isEqualTo(List.of(Map.of("service", "keyhold.v1.KeyService")));
    assertThat(method.containsKey("hedgingPolicy")).isFalse();
    assertThat(method.get("retryPolicy"))
        .isEqualTo(
            Map.of(
                "maxAttempts",
                3.0,
                "initialBackoff",
                "0.02s",
                "maxBackoff",
                "0.2s",
                "backoffMultiplier",
                2.0,
                "retryableStatusCodes",
                List.of("UNAVAILABLE")));
  }

  @Test
  void serviceConfig_oneAttempt_noMethodConfig() {
    Map<String, Object> sc = KeyholdClient.serviceConfig(base().maxAttempts(1).build());
    assertThat(sc).doesNotContainKey("methodConfig");
    assertThat(KeyholdClient.serviceConfig(base().maxAttempts(2).build()))
        .containsKey("methodConfig");
  }

  @Test
  void serviceConfig_healthCheckOff_noHealthConfig() {
    assertThat(KeyholdClient.serviceConfig(base().healthCheck(false).build()))
        .doesNotContainKey("healthCheckConfig")
        .containsKey("loadBalancingConfig");
  }

  @Test
  void serviceConfig_hedging_replacesRetryPolicy() {
    Map<String, Object> sc =
        KeyholdClient.serviceConfig(
            base().maxAttempts(4).hedgingDelay(Duration.ofMillis(15)).build());
    Map<?, ?> method = onlyMethodConfig(sc);
    assertThat(method.containsKey("retryPolicy")).isFalse();
    assertThat(method.get("hedgingPolicy"))
        .isEqualTo(
            Map.of(
                "maxAttempts",
                4.0,
                "hedgingDelay",
                "0.015s",
                "nonFatalStatusCodes",
                List.of("UNAVAILABLE")));
    Map<?, ?> whole =
        onlyMethodConfig(
            KeyholdClient.serviceConfig(base().hedgingDelay(Duration.ofSeconds(2)).build()));
    assertThat(((Map<?, ?>) whole.get("hedgingPolicy")).get("hedgingDelay")).isEqualTo("2s");
  }

  private static Map<?, ?> onlyMethodConfig(Map<String, Object> sc) {
    assertThat((List<?>) sc.get("methodConfig")).hasSize(1);
    return (Map<?, ?>) ((List<?>) sc.get("methodConfig")).get(0);
  }
}
