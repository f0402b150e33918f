package dev.keyhold.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class ServiceOperationsTest {
  @Test
  void parseOkTotal_sumsOkPrivateKeyOperationsOnly() {
    String scrape =
        "# HELP keyhold_operations_total Keyhold API calls by operation and outcome\n"
            + "# TYPE keyhold_operations_total counter\n"
            + "keyhold_operations_total{operation=\"sign\",outcome=\"ok\"} 120.0\n"
            + "keyhold_operations_total{operation=\"decrypt_premaster\",outcome=\"ok\"} 30.0\n"
            + "keyhold_operations_total{operation=\"sign\",outcome=\"invalid_argument\"} 7.0\n"
            + "keyhold_operations_total{operation=\"get_key\",outcome=\"ok\"} 5.0\n"
            + "keyhold_operation_seconds_count{operation=\"sign\"} 127.0\n";
    assertThat(ServiceOperations.parseOkTotal(scrape)).isEqualTo(150);
    assertThat(ServiceOperations.parseOkTotal("")).isZero();
  }

  @Test
  void okTotal_unreachableEndpoint_isEmpty() {
    // Port 9 on loopback (discard) is closed on these machines: no number, no exception.
    assertThat(new ServiceOperations(URI.create("http://127.0.0.1:9/metrics")).okTotal()).isEmpty();
  }
}
