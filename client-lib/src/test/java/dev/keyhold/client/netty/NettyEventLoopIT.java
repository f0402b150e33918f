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
 * The event loop stays free while Keyhold works: with ONE event-loop thread and an HSM held at a
 * gate, a connection established earlier on that same loop gets its application data served while
 * another connection's handshake is held in its signature; only then is the gate opened. A sign
 * that blocked the loop (e.g. {@code join()}) fails the bounded wait for the established
 * connection.
 */
class NettyEventLoopIT {

  @Test
  void heldHsm_oneEventLoop_establishedConnectionServedWhileHandshakeIsHeld() throws Exception {
    SlowKey.Control ctrl = new SlowKey.Control();
    try (TestKeyholdService svc = TestKeyholdService.builder().decorator(ctrl.decorator()).start();
        KeyholdClient client = TestClients.connect(svc, Duration.ofSeconds(20))) {
      SslContext ctx = KeyholdSslContexts.forServer(client, "ec-p256");
      try (TestHttpsServer server = new TestHttpsServer(ctx, 1);
          KeepAliveHttpsConnection established =
              KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
        assertThat(established.get()).startsWith("Hello from Keyhold: TLSv1.3");

        int enteredBefore = ctrl.entered.get();
        ctrl.close(); // every HSM call now waits at the gate until open()
        try {
          CompletableFuture<String> held =
              CompletableFuture.supplyAsync(
                  () -> {
                    try (KeepAliveHttpsConnection c =
                        KeepAliveHttpsConnection.open(server.port(), "TLSv1.3")) {
                      return c.get();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
          // Wait until the second handshake is held inside the HSM call.
          long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (ctrl.entered.get() == enteredBefore && System.nanoTime() < until) {
            Thread.sleep(10);
          }
          assertThat(ctrl.entered.get())
              .as("the held handshake reached the HSM")
              .isGreaterThan(enteredBefore);

          // The single event loop serves the established connection while the sign is held. A
          // loop blocked on the signature would answer only after open(): the get times out.
          CompletableFuture<String> served =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return established.get();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
          assertThat(served.get(10, TimeUnit.SECONDS)).startsWith("Hello from Keyhold: TLSv1.3");
          assertThat(held).as("the held handshake cannot have finished").isNotDone();

          ctrl.open();
          assertThat(held.get(60, TimeUnit.SECONDS)).startsWith("Hello from Keyhold: TLSv1.3");
        } finally {
          ctrl.open();
        }
      } finally {
        ReferenceCountUtil.release(ctx);
      }
    }
  }
}
