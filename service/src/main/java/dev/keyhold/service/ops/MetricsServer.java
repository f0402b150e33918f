package dev.keyhold.service.ops;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * A plain-HTTP endpoint for Prometheus ({@code /metrics}) and Kubernetes: {@code /livez} (the
 * process answers: always 200), {@code /readyz} (200 while the service should get traffic, the HSM
 * answering; 503 otherwise) and {@code /healthz}, the same as {@code /readyz}.
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  public MetricsServer(String host, int port, OperationMetrics metrics, BooleanSupplier ready)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext(
        "/metrics", ex -> respond(ex, 200, metrics.scrape(), "text/plain; version=0.0.4"));
    server.createContext("/livez", ex -> respond(ex, 200, "ok\n", "text/plain"));
    for (String path : new String[] {"/readyz", "/healthz"}) {
      server.createContext(
          path,
          ex -> {
            boolean ok = ready.getAsBoolean();
            respond(ex, ok ? 200 : 503, ok ? "ok\n" : "not serving\n", "text/plain");
          });
    }
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
