package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.testing.SlowKey;
import dev.keyhold.service.testing.TestKeyholdService;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The event loop stays free while Keyhold works: with ONE event-loop thread and an HSM that is slow
 * on purpose, a connection established earlier on that same loop keeps getting its application data
 * served while another connection's handshake waits for its signature.
 */
class NettyEventLoopIT {

  @Test
  void slowHsm_oneEventLoop_establishedConnectionServedWhileHandshakeWaits() throws Exception {
    SlowKey.Control ctrl = new SlowKey.Control();
    try (TestKeyholdService svc = TestKeyholdService.builder().decorator(ctrl.decorator()).start();
        KeyholdClient client = TestClients.connect(svc, Duration.ofSeconds(20))) {
      SslContext ctx = KeyholdSslContexts.forServer(client, "ec-p256");
      try (TestHttpsServer server = new TestHttpsServer(ctx, 1);
          KeepAliveHttpsConnection established =
              KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
        assertThat(established.get()).startsWith("Hello from Keyhold: TLSv1.3");

        int enteredBefore = ctrl.entered.get();
        ctrl.delay = Duration.ofSeconds(4);
        CompletableFuture<String> slow =
            CompletableFuture.supplyAsync(
                () -> {
                  try (KeepAliveHttpsConnection c =
                      KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
                    return c.get();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        // Wait until the second handshake is parked inside the (slow) HSM call.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ctrl.entered.get() == enteredBefore && System.nanoTime() < until) {
          Thread.sleep(10);
        }
        assertThat(ctrl.entered.get())
            .as("the slow handshake reached the HSM")
            .isGreaterThan(enteredBefore);

        // The single event loop still serves the established connection...
        assertThat(established.get()).startsWith("Hello from Keyhold: TLSv1.3");
        // ...before the waiting handshake could finish.
        assertThat(slow).as("the slow handshake is still waiting for its signature").isNotDone();

        ctrl.delay = Duration.ZERO;
        assertThat(slow.get(60, TimeUnit.SECONDS)).startsWith("Hello from Keyhold: TLSv1.3");
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    }
  }
}
