package dev.keyhold.service.ops;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/** A plain-HTTP endpoint for Prometheus ({@code /metrics}) and liveness ({@code /healthz}). */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  public MetricsServer(String host, int port, OperationMetrics metrics, BooleanSupplier healthy)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext(
        "/metrics", ex -> respond(ex, 200, metrics.scrape(), "text/plain; version=0.0.4"));
    server.createContext(
        "/healthz",
        ex -> {
          boolean ok = healthy.getAsBoolean();
          respond(ex, ok ? 200 : 503, ok ? "ok\n" : "hsm unavailable\n", "text/plain");
        });
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void respond(
      com.sun.net.httpserver.HttpExchange ex, int code, String body, String type)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, b.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
