package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildServiceTest {
  @TempDir Path dir;

  @Test
  void javaExecutable_defaultsToTheBenchJdk_andNamesAMissingOne() throws Exception {
    assertThat(ChildService.javaExecutable(null))
        .isEqualTo(Path.of(System.getProperty("java.home"), "bin", "java"));
    assertThat(ChildService.javaExecutable(Path.of(System.getProperty("java.home"))))
        .isExecutable();
    assertThatThrownBy(() -> ChildService.javaExecutable(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("--java-home " + dir)
        .hasMessageContaining("bin/java");
  }

  @Test
  void ports_fromTheServicesLogLines_minusOneBeforeThem() {
    String log =
        "05:36:26.700 INFO  [main] KeyholdServer - Keyhold metrics listening on 127.0.0.1:40125\n"
            + "05:36:26.789 INFO  [main] KeyholdServer - Keyhold listening on 127.0.0.1:32839"
            + " (mTLS, TLS 1.3) with 4 HSM sessions; keys: []\n";
    assertThat(ChildService.metricsPort(log)).isEqualTo(40125);
    assertThat(ChildService.listeningPort(log)).isEqualTo(32839);
    assertThat(ChildService.metricsPort("05:36:24.123 INFO  [main] starting\n")).isEqualTo(-1);
    assertThat(ChildService.listeningPort("")).isEqualTo(-1);
  }

  @Test
  void metricsUri_explicitWins_elseTheConfigsListenAddress() {
    assertThat(HandshakesCommand.metricsUri(java.net.URI.create("http://h:1/metrics"), null))
        .hasToString("http://h:1/metrics");
    assertThat(HandshakesCommand.metricsUri(null, null)).isNull();
  }

  @Test
  void javaHome_optionParses() {
    var cmd = new OpsCommand();
    new picocli.CommandLine(cmd).parseArgs("--java-home", "/opt/jdk", "--start-service");
    assertThat(cmd.target.javaHome).isEqualTo(Path.of("/opt/jdk"));
    assertThat(cmd.target.startService).isTrue();
  }
}
