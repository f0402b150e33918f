package dev.keyhold.bench.load;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;

/**
 * How many operations the Keyhold service says it completed: the sum of its Prometheus counter
 * {@code keyhold_operations_total{outcome="ok"}} over the private-key operations (sign,
 * decrypt_premaster; not get_key or list_keys), read from its {@code /metrics} endpoint. Compared
 * with the handshakes the bench completed, it shows that each handshake cost exactly one Keyhold
 * operation (no resumption, no retries, no extra calls).
 */
public final class ServiceOperations {
  private final URI metrics;

  public ServiceOperations(URI metrics) {
    this.metrics = metrics;
  }

  public URI uri() {
    return metrics;
  }

  /** The current total, or empty when the endpoint cannot be read. */
  public OptionalLong okTotal() {
    try {
      HttpURLConnection c = (HttpURLConnection) metrics.toURL().openConnection();
      c.setConnectTimeout(5000);
      c.setReadTimeout(5000);
      try (InputStream in = c.getInputStream()) {
        return OptionalLong.of(parseOkTotal(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
      } finally {
        c.disconnect();
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Sums the {@code keyhold_operations_total} samples of sign and decrypt_premaster whose {@code
   * outcome} label is {@code ok}, in the Prometheus text format (a sample line is {@code
   * name{labels} value}).
   */
  static long parseOkTotal(String exposition) {
    double total = 0;
    for (String line : exposition.split("\n")) {
      if (!line.startsWith("keyhold_operations_total{")) {
        continue;
      }
      int close = line.lastIndexOf('}');
      String labels = line.substring(line.indexOf('{') + 1, close);
      if (!labels.contains("outcome=\"ok\"")
          || !(labels.contains("operation=\"sign\"")
              || labels.contains("operation=\"decrypt_premaster\""))) {
        continue;
      }
      String value = line.substring(close + 1).trim().split("\\s+")[0];
      total += Double.parseDouble(value);
    }
    return Math.round(total);
  }
}
