package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.bench.handshake.HandshakeBench.Server;
import java.util.List;
import org.junit.jupiter.api.Test;

class HandshakesCommandTest {
  @Test
  void selectedServers_addsTheNginxBaselineOnce() {
    assertThat(HandshakesCommand.selectedServers(List.of("d", "e"), List.of("nginx-libp11")))
        .containsExactly(Server.NETTY_KEYHOLD, Server.NETTY_LOCAL, Server.NGINX_LIBP11);
    assertThat(HandshakesCommand.selectedServers(List.of("f", "a"), List.of("nginx-libp11")))
        .containsExactly(Server.NGINX_LIBP11, Server.JSSE_PKCS12);
  }

  @Test
  void selectedServers_unknownBaseline_isAUsageError() {
    assertThatThrownBy(() -> HandshakesCommand.selectedServers(List.of("a"), List.of("haproxy")))
        .isInstanceOf(picocli.CommandLine.ParameterException.class)
        .hasMessageContaining("'haproxy' is not a handshake baseline (only nginx-libp11)");
  }
}
