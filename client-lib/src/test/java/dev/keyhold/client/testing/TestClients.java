package dev.keyhold.client.testing;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.service.testing.TestKeyholdService;
import java.time.Duration;

/**
 * The one way tests build a client-lib client for a {@link TestKeyholdService}: its target, its CA,
 * a client certificate the test policy knows, and the name its certificate carries. Shared with
 * demo and bench through client-lib's test jar.
 */
public final class TestClients {
  private TestClients() {}

  /** A config builder for {@code identity} (e.g. {@code test-client}), ready for more options. */
  public static KeyholdClientConfig.Builder config(TestKeyholdService svc, String identity) {
    return KeyholdClientConfig.builder()
        .target(svc.target())
        .trustedCa(svc.caCert())
        .clientCertificate(svc.clientCert(identity), svc.clientKey(identity))
        .authority("localhost");
  }

  /** A client as {@code test-client}, allowed everything, with this per-call deadline. */
  public static KeyholdClient connect(TestKeyholdService svc, Duration deadline) {
    return KeyholdClient.create(config(svc, "test-client").deadline(deadline).build());
  }
}
