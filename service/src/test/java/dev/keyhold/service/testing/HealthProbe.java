package dev.keyhold.service.testing;

import dev.keyhold.proto.v1.KeyServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Reads a test service's health as a load balancer or Kubernetes would: the gRPC health service (""
 * and the KeyService name) and the HTTP {@code /livez}, {@code /readyz}, {@code /healthz}.
 */
public final class HealthProbe {
  private final ManagedChannel channel;
  private final int httpPort;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public HealthProbe(ManagedChannel channel, int httpPort) {
    this.channel = channel;
    this.httpPort = httpPort;
  }

  /** The gRPC health status of {@code service} ("" for the whole server). */
  public ServingStatus grpc(String service) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  /** Both gRPC names agree on {@code status}. */
  public boolean grpcIs(ServingStatus status) {
    return grpc("") == status && grpc(KeyServiceGrpc.SERVICE_NAME) == status;
  }

  /** The HTTP status of {@code path} on the metrics listener. */
  public int http(String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The Prometheus scrape. */
  public String metrics() {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** GRPC health and {@code /readyz} both say serving (true) or both say not (false). */
  public boolean serving(boolean expected) {
    ServingStatus want = expected ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    return grpcIs(want) && http("/readyz") == (expected ? 200 : 503);
  }

  /**
   * Polls {@code condition} every 20 ms until it holds; returns when it first held (nanoTime), or
   * fails after {@code timeout}.
   */
  public static long await(String what, Duration timeout, BooleanSupplier condition) {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (condition.getAsBoolean()) {
        return System.nanoTime();
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      try {
        Thread.sleep(20); // polling interval, not synchronization: the condition decides
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what, e);
      }
    }
  }
}
