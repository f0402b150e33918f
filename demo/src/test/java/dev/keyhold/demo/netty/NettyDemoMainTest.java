package dev.keyhold.demo.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.ClientAuth;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class NettyDemoMainTest {

  @Test
  void parseDuration_suffixes_parsed() {
    assertThat(NettyDemoMain.parseDuration("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(NettyDemoMain.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(NettyDemoMain.parseDuration("1m")).isEqualTo(Duration.ofMinutes(1));
    assertThat(NettyDemoMain.parseDuration("PT3S")).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void parseClientAuth_names_mapped() {
    assertThat(NettyDemoMain.parseClientAuth("none")).isEqualTo(ClientAuth.NONE);
    assertThat(NettyDemoMain.parseClientAuth("want")).isEqualTo(ClientAuth.OPTIONAL);
    assertThat(NettyDemoMain.parseClientAuth("NEED")).isEqualTo(ClientAuth.REQUIRE);
    assertThatThrownBy(() -> NettyDemoMain.parseClientAuth("maybe"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
