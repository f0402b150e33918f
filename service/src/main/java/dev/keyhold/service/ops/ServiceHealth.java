package dev.keyhold.service.ops;

import dev.keyhold.service.keys.TokenState;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the service tells health checks: SERVING while at least one token serves, no more than the
 * allowed number of HSM threads are stuck and the service is not shutting down. Drives the gRPC
 * health service ("" and each named service) and {@code /readyz}, and keeps {@code
 * keyhold_hsm_token_up{token}} (1/0) and {@code
 * keyhold_hsm_token_state_changes_total{token,state}}.
 */
public final class ServiceHealth implements TokenState.Listener {
  private static final Logger log = LoggerFactory.getLogger(ServiceHealth.class);

  private final HealthStatusManager grpc;
  private final List<String> services;
  private final OperationMetrics metrics;
  private final Map<String, TokenState> tokens = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> up = new ConcurrentHashMap<>();
  private volatile boolean stuck;
  private volatile boolean shuttingDown;
  private volatile java.util.function.BooleanSupplier keysServed = () -> true;
  private ServingStatus reported; // guarded by this

  public ServiceHealth(HealthStatusManager grpc, List<String> services, OperationMetrics metrics) {
    this.grpc = grpc;
    this.services = List.copyOf(services);
    this.metrics = metrics;
  }

  /** Registers a token in its current state. */
  public void track(String token, TokenState state) {
    tokens.put(token, state);
    AtomicInteger g = new AtomicInteger(state.serving() ? 1 : 0);
    up.put(token, g);
    Gauge.builder("keyhold.hsm.token.up", g, AtomicInteger::get)
        .description("1 while the token answers the health probe, else 0")
        .tag("token", token)
        .register(metrics.registry());
    update();
  }

  @Override
  public void changed(String token, TokenState from, TokenState to, String why) {
    tokens.put(token, to);
    AtomicInteger g = up.get(token);
    if (g != null) {
      g.set(to.serving() ? 1 : 0);
    }
    Counter.builder("keyhold.hsm.token.state.changes")
        .description("Token state changes, by the state entered")
        .tag("token", token)
        .tag("state", to.name().toLowerCase(java.util.Locale.ROOT))
        .register(metrics.registry())
        .increment();
    update();
  }

  /**
   * An HA group's readiness rule: serving only while {@code everyKeyServed} (every key is held by a
   * token that serves), on top of "at least one token serves".
   */
  public void requireEveryKey(java.util.function.BooleanSupplier everyKeyServed) {
    this.keysServed = everyKeyServed;
    update();
  }

  /** Too many HSM threads are stuck past their callers' deadlines (or no longer). */
  public synchronized void stuck(boolean tooMany) {
    if (stuck != tooMany) {
      if (tooMany) {
        log.warn("hsm.maxStuckThreads HSM threads are stuck past their deadlines: not serving");
      } else {
        log.info("stuck HSM calls returned: serving again");
      }
    }
    stuck = tooMany;
    update();
  }

  /** From now on NOT_SERVING for good: the service is stopping. */
  public void shuttingDown() {
    shuttingDown = true;
    update();
  }

  /** Whether the service should get traffic: {@code /readyz} and gRPC health. */
  public boolean ready() {
    return !shuttingDown
        && !stuck
        && tokens.values().stream().anyMatch(TokenState::serving)
        && keysServed.getAsBoolean();
  }

  private synchronized void update() {
    ServingStatus s = ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (s == reported) {
      return;
    }
    reported = s;
    grpc.setStatus("", s);
    for (String service : services) {
      grpc.setStatus(service, s);
    }
  }
}
