package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.ServiceConfig.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code host:port} and {@code [v6]:port}, the port range's both ends, and what is refused. */
class HostPortTest {

  @ParameterizedTest
  @CsvSource({
    "127.0.0.1:9443, 127.0.0.1, 9443, 127.0.0.1:9443",
    "[::1]:0, ::1, 0, [::1]:0",
    "h:65535, h, 65535, h:65535",
  })
  void parse_valid_roundTrips(String text, String host, int port, String shown) {
    HostPort hp = HostPort.parse(text, "listen");

    assertThat(hp).isEqualTo(new HostPort(host, port));
    assertThat(hp).hasToString(shown);
  }

  @Test
  void parse_invalid_namesTheFieldAndTheProblem() {
    assertThatThrownBy(() -> HostPort.parse("9443", "listen"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("listen: '9443' is not host:port");
    assertThatThrownBy(() -> HostPort.parse(":9443", "listen"))
        .hasMessage("listen: ':9443' is not host:port");
    assertThatThrownBy(() -> HostPort.parse("h:x", "metrics.listen"))
        .hasMessage("metrics.listen: port in 'h:x' is not a number");
    assertThatThrownBy(() -> HostPort.parse("h:65536", "listen"))
        .hasMessage("listen: port 65536 is out of range");
    assertThatThrownBy(() -> HostPort.parse("h:-1", "listen"))
        .hasMessage("listen: port -1 is out of range");
  }
}
