package dev.keyhold.service.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.proto.v1.Operation;
import dev.keyhold.service.ops.OperationMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PolicyReloader#reload}: a valid file replaces the policy, a broken one keeps the old one;
 * both are counted. The file watching itself is {@code PolicyReloadIT}'s.
 */
class PolicyReloaderTest {
  private static final ClientIdentity WEB =
      new ClientIdentity(List.of("web"), List.of(), null, true, "00aa");
  private static final String CONFIG =
      """
      listen: 127.0.0.1:9443
      tls:
        certChain: server.pem
        privateKey: server.key
        clientCa: ca.pem
      hsm:
        library: lib.so
        tokenLabel: keyhold
        pin: { file: user.pin }
      policy:
        - client: web
          keys: ["%s"]
          operations: [sign]
      """;

  @TempDir Path dir;

  @Test
  void reload_validFile_replacesThePolicy_brokenFileKeepsIt() throws Exception {
    Path f = dir.resolve("keyhold.yaml");
    try (PolicyReloader r = new PolicyReloader(new Policy(List.of()), new OperationMetrics())) {
      Policy initial = r.current();
      assertThat(initial.allows(WEB, "rsa2048", Operation.OPERATION_SIGN)).isFalse();

      Files.writeString(f, CONFIG.formatted("rsa*"));
      assertThat(r.reload(f, "SIGHUP")).isTrue();

      Policy granted = r.current();
      assertThat(granted).isNotSameAs(initial);
      assertThat(granted.allows(WEB, "rsa2048", Operation.OPERATION_SIGN)).isTrue();
      assertThat(r.reloaded()).isEqualTo(1);
      assertThat(r.rejected()).isZero();

      Files.writeString(
          f, CONFIG.formatted("rsa*").replace("operations: [sign]", "operations: []"));
      assertThat(r.reload(f, "SIGHUP")).isFalse();

      assertThat(r.current()).isSameAs(granted);
      assertThat(r.reloaded()).isEqualTo(1);
      assertThat(r.rejected()).isEqualTo(1);
    }
  }

  @Test
  void reload_missingFile_isRejected() throws Exception {
    try (PolicyReloader r = new PolicyReloader(new Policy(List.of()), new OperationMetrics())) {
      Policy initial = r.current();

      assertThat(r.reload(dir.resolve("absent.yaml"), "SIGHUP")).isFalse();

      assertThat(r.current()).isSameAs(initial);
      assertThat(r.rejected()).isEqualTo(1);
    }
  }
}
