package dev.keyhold.service.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per operation: time, client identity, request id, key, operation,
 * scheme, outcome and latency; never payloads. Lines are hash-chained: each carries the
 * previous line's hash and its own, SHA-256 over the previous hash and its content, so a
 * changed, removed or reordered line breaks the chain ({@link #verify}). A restarted
 * service continues the chain of the existing file.
 */
public final class AuditLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger("keyhold.audit");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GENESIS = "0".repeat(64);

  /** One audited operation. */
  public record Event(
      Instant time, String client, String requestId, String key, String operation, String scheme, String outcome, long latencyMicros) {}

  private final BufferedWriter out;
  private final ScheduledExecutorService flusher;
  private String previous;

  private AuditLog(BufferedWriter out, String previous) {
    this.out = out;
    this.previous = previous;
    if (out != null) {
      this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "keyhold-audit-flush");
        t.setDaemon(true);
        return t;
      });
      flusher.scheduleWithFixedDelay(this::flush, 200, 200, TimeUnit.MILLISECONDS);
    } else {
      this.flusher = null;
    }
  }

  /** Appends to {@code file} (created if missing), or logs to "keyhold.audit" when null. */
  public static AuditLog open(Path file) throws IOException {
    if (file == null) {
      return new AuditLog(null, GENESIS);
    }
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    String last = GENESIS;
    if (Files.exists(file)) {
      List<String> lines = Files.readAllLines(file);
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (!lines.get(i).isBlank()) {
          last = JSON.readTree(lines.get(i)).path("hash").asText(GENESIS);
          break;
        }
      }
    }
    BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return new AuditLog(w, last);
  }

  public void record(Event e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("time", e.time().toString());
    n.put("client", e.client());
    n.put("request", e.requestId());
    n.put("key", e.key());
    n.put("op", e.operation());
    if (e.scheme() != null) {
      n.put("scheme", e.scheme());
    }
    n.put("outcome", e.outcome());
    n.put("latency_us", e.latencyMicros());
    synchronized (this) {
      n.put("prev", previous);
      String hash = chainHash(previous, n.toString());
      n.put("hash", hash);
      previous = hash;
      String line = n.toString();
      if (out == null) {
        log.info(line);
      } else {
        try {
          out.write(line);
          out.write('\n');
        } catch (IOException ex) {
          throw new UncheckedIOException("audit log write failed", ex);
        }
      }
    }
  }

  public synchronized void flush() {
    if (out != null) {
      try {
        out.flush();
      } catch (IOException e) {
        log.error("audit log flush failed: {}", e.getMessage());
      }
    }
  }

  @Override
  public void close() throws IOException {
    if (flusher != null) {
      flusher.shutdownNow();
    }
    synchronized (this) {
      if (out != null) {
        out.close();
      }
    }
  }

  /**
   * Checks a file's chain. Returns -1 when intact, else the 1-based number of the first
   * line that does not chain.
   */
  public static long verify(Path file) throws IOException {
    String prev = null;
    long lineNo = 0;
    for (String line : Files.readAllLines(file)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode node = JSON.readTree(line);
      String hash = node.path("hash").asText();
      String claimedPrev = node.path("prev").asText();
      // The first line must start the chain, or a removed first line would go unnoticed.
      if (!(prev == null ? GENESIS : prev).equals(claimedPrev)) {
        return lineNo;
      }
      ObjectNode content = ((ObjectNode) node).deepCopy();
      content.remove("hash");
      if (!chainHash(claimedPrev, content.toString()).equals(hash)) {
        return lineNo;
      }
      prev = hash;
    }
    return -1;
  }

  private static String chainHash(String previous, String content) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(previous.getBytes(StandardCharsets.US_ASCII));
      md.update(content.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
