package dev.keyhold.client.rpc;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Caps the channel's reconnect backoff at one second. gRPC waits up to two minutes between attempts
 * after the service has been down for a while, so an app server would keep failing handshakes long
 * after the service is back; with this, it reconnects within a second, without traffic. While the
 * service stays down this costs one connection attempt per second per channel.
 */
final class ReconnectWatcher {
  static final long DELAY_MILLIS = 1000;

  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "keyhold-reconnect");
            t.setDaemon(true);
            return t;
          });

  private final ManagedChannel channel;

  private ReconnectWatcher(ManagedChannel channel) {
    this.channel = channel;
  }

  static void watch(ManagedChannel channel) {
    new ReconnectWatcher(channel).arm(channel.getState(false));
  }

  private void arm(ConnectivityState seen) {
    if (seen == ConnectivityState.SHUTDOWN) {
      return;
    }
    channel.notifyWhenStateChanged(seen, this::changed);
  }

  private void changed() {
    ConnectivityState now = channel.getState(false);
    if (now == ConnectivityState.TRANSIENT_FAILURE) {
      TIMER.schedule(
          () -> {
            if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
              channel.resetConnectBackoff();
            }
          },
          DELAY_MILLIS,
          TimeUnit.MILLISECONDS);
    }
    arm(now);
  }
}
