package dev.keyhold.service.ops;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per operation: time, client identity, request id, key, operation, scheme, outcome
 * and latency; never payloads. Lines are hash-chained: each carries the previous line's hash and
 * its own, SHA-256 over the previous hash and its content, so a changed, removed or reordered line
 * breaks the chain ({@link #verify}). A restarted service continues the chain of the existing file.
 *
 * <p>Anchoring: with an {@link AuditCheckpointer}, the writer adds signed checkpoint lines (a
 * sequence number, the chain head, the time, signed by an HSM key) when it opens the file, every
 * {@code checkpointLines} lines, every {@code checkpointInterval} when lines were written, and a
 * final one at close; {@link AuditVerifier} checks them with the public key.
 *
 * <p>Failure: a write or flush that fails (disk full, permissions) marks the sink unhealthy; with
 * {@link OnFailure#REFUSE} {@link #refusing()} is then true and the service refuses new operations
 * until a later write (each refusal is audited too, so each is a retry) succeeds and is flushed.
 * Writing is asynchronous, so the operations answered while the failing batch was being written
 * (about one flush, a few milliseconds) are not refused and their lines may be lost; verify then
 * names the gap.
 */
public final class AuditLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger("keyhold.audit");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GENESIS = "0".repeat(64);

  /**
   * One audited operation. {@code client} is the caller's name that authorized it (or, when nothing
   * did, its primary name); {@code identity} is the same name with its form ({@code dns:NAME},
   * {@code uri:URI}, {@code cn:NAME}, {@code spki-sha256:HEX}); {@code rule} the policy rule that
   * allowed the call ({@code policy[i]}), null when none did.
   */
  public record Event(
      Instant time,
      String client,
      String requestId,
      String key,
      String operation,
      String scheme,
      String outcome,
      long latencyMicros,
      String identity,
      String rule) {

    /** An event with no identity form and no rule (callers outside a policy decision). */
    public Event(
        Instant time,
        String client,
        String requestId,
        String key,
        String operation,
        String scheme,
        String outcome,
        long latencyMicros) {
      this(time, client, requestId, key, operation, scheme, outcome, latencyMicros, null, null);
    }
  }

  /** What the service does when the audit log cannot be written. */
  public enum OnFailure {
    /** Refuse operations (UNAVAILABLE, AUDIT_UNAVAILABLE) until writes succeed again. */
    REFUSE,
    /** Serve on, unaudited, logging the failure. */
    CONTINUE
  }

  /**
   * Settings of the audit sink. {@code maxBytes} > 0 rotates the file once it holds that many
   * bytes; {@code maxFiles} > 0 keeps only that many rotated files (0: none is deleted).
   */
  public record Options(
      OnFailure onFailure,
      AuditCheckpointer checkpointer,
      long checkpointLines,
      long intervalMillis,
      long maxBytes,
      int maxFiles) {
    public static final Options DEFAULT = new Options(OnFailure.REFUSE, null, 1000, 60_000);

    /** Without rotation. */
    public Options(
        OnFailure onFailure,
        AuditCheckpointer checkpointer,
        long checkpointLines,
        long intervalMillis) {
      this(onFailure, checkpointer, checkpointLines, intervalMillis, 0, 0);
    }
  }

  private static final Event POISON = new Event(Instant.EPOCH, "", "", "", "", null, "", 0);
  private static final JsonFactory FACTORY = new JsonFactory();

  private final Path file;
  private BufferedWriter out;
  private long fileNumber;
  private long fileBytes;
  private final ArrayBlockingQueue<Event> queue = new ArrayBlockingQueue<>(1 << 16);
  private final Thread writer;
  private final MessageDigest sha256;
  private volatile long written;
  private final java.util.concurrent.atomic.AtomicLong accepted =
      new java.util.concurrent.atomic.AtomicLong();
  private String previous;
  private final Options options;
  private volatile boolean healthy = true;
  private boolean batchFailed;
  private long checkpointSeq;
  private long linesSinceCheckpoint;
  private long lastCheckpointNanos = System.nanoTime();
  private volatile long rotations;

  /** A rotate header to write first (the file was started after the one it names). */
  private String pendingHeader;

  private AuditLog(
      Path file,
      BufferedWriter out,
      String previous,
      long lastSeq,
      Options options,
      long fileNumber,
      long fileBytes) {
    this.file = file;
    this.out = out;
    this.fileNumber = fileNumber;
    this.fileBytes = fileBytes;
    this.previous = previous;
    this.checkpointSeq = lastSeq;
    this.options = options;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    this.writer = new Thread(this::writeLoop, "keyhold-audit");
    writer.setDaemon(true);
    writer.start();
  }

  /** Appends to {@code file} (created if missing), or logs to "keyhold.audit" when null. */
  public static AuditLog open(Path file) throws IOException {
    return open(file, Options.DEFAULT);
  }

  /** As {@link #open(Path)}, with failure handling and checkpoints. */
  public static AuditLog open(Path file, Options options) throws IOException {
    if (file == null) {
      return new AuditLog(null, null, GENESIS, 0, options, 1, 0);
    }
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    // A file with lines continues its own chain; a new (or empty) one continues the newest
    // rotated file's, when rotation left one, and starts with a rotate header naming it.
    boolean regular = Files.isRegularFile(file);
    boolean hasLines = regular && Files.size(file) > 0;
    java.util.Map.Entry<Long, Path> newest =
        regular || !Files.exists(file) ? AuditFiles.rotated(file).lastEntry() : null;
    String last =
        hasLines || (!regular && Files.exists(file))
            ? lastHash(file)
            : newest != null ? lastHash(newest.getValue()) : GENESIS;
    long seq = 0;
    if (options.checkpointer() != null) {
      if (hasLines) {
        seq = lastCheckpointSeq(file);
      }
      if (seq == 0 && newest != null) {
        seq = lastCheckpointSeq(newest.getValue());
      }
    }
    long number = hasLines ? AuditFiles.number(file) : 0;
    if (number == 0) {
      number = newest != null ? newest.getKey() + 1 : 1;
    }
    BufferedWriter w =
        Files.newBufferedWriter(
            file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    AuditLog a = new AuditLog(file, w, last, seq, options, number, regular ? Files.size(file) : 0);
    if (!hasLines && newest != null) {
      a.pendingHeader = newest.getValue().getFileName().toString();
    }
    return a;
  }

  /** The sequence number of the file's last checkpoint (0 if none): one scan, at start-up. */
  private static long lastCheckpointSeq(Path file) throws IOException {
    long seq = 0;
    try (java.io.BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.contains("\"op\":\"checkpoint\"")) {
          try {
            seq = Math.max(seq, JSON.readTree(line).path("seq").asLong(seq));
          } catch (IOException e) {
            // a damaged line: verify reports it; keep counting from the last good one
          }
        }
      }
    }
    return seq;
  }

  /**
   * Whether new operations must be refused: the last write or flush failed and {@code
   * audit.onFailure} is {@code refuse}.
   */
  public boolean refusing() {
    return !healthy && options.onFailure() == OnFailure.REFUSE;
  }

  /** Whether the last write and flush succeeded. */
  public boolean healthy() {
    return healthy;
  }

  /** The hash of the file's last line, read from its tail: audit logs grow to gigabytes. */
  private static String lastHash(Path file) throws IOException {
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      int window = (int) Math.min(size, 64 * 1024);
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(window);
      while (buf.hasRemaining() && ch.read(buf, size - window + buf.position()) > 0) {
        // read the whole tail window
      }
      String tail = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
      String[] lines = tail.split("\n");
      for (int i = lines.length - 1; i >= 0; i--) {
        if (!lines[i].isBlank()) {
          return JSON.readTree(lines[i]).path("hash").asText(GENESIS);
        }
      }
      return GENESIS;
    }
  }

  /**
   * Hands the event to the audit writer thread; the caller (an HSM thread) does no formatting,
   * hashing or I/O. When the writer falls 65,536 lines behind, callers wait: an operation is never
   * left unaudited.
   */
  public void record(Event e) {
    accepted.incrementAndGet();
    if (!queue.offer(e)) {
      try {
        queue.put(e);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the audit log", ie);
      }
    }
  }

  @SuppressWarnings("ReferenceEquality") // POISON is a sentinel instance
  private void writeLoop() {
    List<Event> batch = new ArrayList<>(1024);
    StringBuilderWriter buf = new StringBuilderWriter();
    if (pendingHeader != null) {
      writeRotateHeader(buf, pendingHeader);
      pendingHeader = null;
    }
    if (options.checkpointer() != null) {
      writeCheckpoint(buf, false);
      flushQuietly();
    }
    while (true) {
      // Poll on a timer rather than waiting on the queue: a waiting consumer makes every
      // record() pay a futex wake-up, which at ECDSA rates costs more than the line itself.
      Event first = queue.poll();
      if (first == null) {
        if (options.checkpointer() != null
            && linesSinceCheckpoint > 0
            && System.nanoTime() - lastCheckpointNanos
                >= TimeUnit.MILLISECONDS.toNanos(options.intervalMillis())) {
          writeCheckpoint(buf, false);
          flushQuietly();
        }
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, 1023);
      boolean stop = false;
      for (Event e : batch) {
        if (e == POISON) {
          stop = true;
          continue;
        }
        writeLine(e, buf);
        if (options.checkpointer() != null && linesSinceCheckpoint >= options.checkpointLines()) {
          writeCheckpoint(buf, false);
        }
        if (options.maxBytes() > 0 && fileBytes >= options.maxBytes()) {
          rotate(buf);
        }
      }
      batch.clear();
      if (stop && options.checkpointer() != null) {
        writeCheckpoint(buf, true);
      }
      if (queue.isEmpty() || stop) {
        flushQuietly();
      }
      if (stop) {
        return;
      }
    }
  }

  @SuppressWarnings("NonAtomicVolatileUpdate") // only the writer thread updates written
  private void writeLine(Event e, StringBuilderWriter buf) {
    try {
      buf.sb.setLength(0);
      try (JsonGenerator g = FACTORY.createGenerator(buf)) {
        g.writeStartObject();
        g.writeStringField("time", e.time().toString());
        g.writeStringField("client", e.client());
        if (e.identity() != null) {
          g.writeStringField("identity", e.identity());
        }
        if (e.rule() != null) {
          g.writeStringField("rule", e.rule());
        }
        g.writeStringField("request", e.requestId());
        g.writeStringField("key", e.key());
        g.writeStringField("op", e.operation());
        if (e.scheme() != null) {
          g.writeStringField("scheme", e.scheme());
        }
        g.writeStringField("outcome", e.outcome());
        g.writeNumberField("latency_us", e.latencyMicros());
        g.writeStringField("prev", previous);
        g.writeEndObject();
      }
      emit(buf.sb.toString());
      linesSinceCheckpoint++;
    } catch (IOException ex) {
      writeFailed("write", ex);
    } finally {
      written++;
    }
  }

  /** Chains and writes one line built without its hash field. */
  private void emit(String content) throws IOException {
    // The hash covers the line without its own hash field, exactly as verify() rebuilds it.
    String hash = chainHash(sha256, previous, content);
    previous = hash;
    String line = content.substring(0, content.length() - 1) + ",\"hash\":\"" + hash + "\"}";
    if (out == null) {
      log.info(line);
    } else {
      out.write(line);
      out.write('\n');
      fileBytes += utf8Length(line) + 1;
    }
  }

  private static long utf8Length(String s) {
    long n = s.length();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        n += c >= 0x800 && !Character.isSurrogate(c) ? 2 : 1;
      }
    }
    return n;
  }

  /**
   * Closes the current file with a checkpoint, renames it to {@code FILE.NNNNNN} (its number) and
   * starts the next, whose first line (a rotate header naming the old file) chains to the old
   * file's last line. Then deletes rotated files beyond {@code maxFiles}. A failure here is a write
   * failure: with {@code refuse}, operations are refused until a later rotation succeeds.
   */
  @SuppressWarnings("NonAtomicVolatileUpdate") // only the writer thread updates rotations
  private void rotate(StringBuilderWriter buf) {
    if (options.checkpointer() != null) {
      writeCheckpoint(buf, false);
    }
    Path old = AuditFiles.rotatedName(file, fileNumber);
    try {
      out.flush();
      out.close();
      Files.move(file, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      writeFailed("rotation to " + old.getFileName(), e);
      // keep writing into the current file, reopened; the next line retries the rotation
      try {
        out =
            Files.newBufferedWriter(
                file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException again) {
        writeFailed("reopen", again);
      }
      return;
    }
    try {
      out =
          Files.newBufferedWriter(
              file,
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE);
    } catch (IOException e) {
      writeFailed("new file after rotation", e);
      return;
    }
    fileNumber++;
    fileBytes = 0;
    rotations++;
    writeRotateHeader(buf, old.getFileName().toString());
    if (options.maxFiles() > 0) {
      try {
        java.util.NavigableMap<Long, Path> all = AuditFiles.rotated(file);
        while (all.size() > options.maxFiles()) {
          Path gone = all.pollFirstEntry().getValue();
          Files.deleteIfExists(gone);
          log.info("audit file {} deleted (audit.maxFiles: {})", gone, options.maxFiles());
        }
      } catch (IOException e) {
        log.warn("deleting old audit files failed: {}", e.getMessage());
      }
    }
  }

  /** The first line of a rotated-into file: its number and the file it continues. */
  private void writeRotateHeader(StringBuilderWriter buf, String previousFile) {
    try {
      buf.sb.setLength(0);
      try (JsonGenerator g = FACTORY.createGenerator(buf)) {
        g.writeStartObject();
        g.writeStringField("time", Instant.now().toString());
        g.writeStringField("op", "rotate");
        g.writeNumberField("file", fileNumber);
        g.writeStringField("continues", previousFile);
        g.writeStringField("prev", previous);
        g.writeEndObject();
      }
      emit(buf.sb.toString());
    } catch (IOException ex) {
      writeFailed("write", ex);
    }
  }

  /** How many times the file rotated since open. */
  public long rotations() {
    return rotations;
  }

  /** The bytes a checkpoint's signature covers. */
  static byte[] checkpointMessage(long seq, String head, String time, boolean last) {
    return ("keyhold audit checkpoint v1\n" + seq + "\n" + head + "\n" + time + "\n" + last)
        .getBytes(StandardCharsets.US_ASCII);
  }

  private void writeCheckpoint(StringBuilderWriter buf, boolean last) {
    AuditCheckpointer cp = options.checkpointer();
    long seq = checkpointSeq + 1;
    String time = Instant.now().toString();
    byte[] sig;
    try {
      sig = cp.sign(checkpointMessage(seq, previous, time, last));
    } catch (java.security.GeneralSecurityException | RuntimeException e) {
      log.error("audit checkpoint {} could not be signed: {}", seq, e.getMessage());
      return; // the next one retries; verify reports the lines after the last checkpoint
    }
    try {
      buf.sb.setLength(0);
      try (JsonGenerator g = FACTORY.createGenerator(buf)) {
        g.writeStartObject();
        g.writeStringField("time", time);
        g.writeStringField("op", "checkpoint");
        g.writeNumberField("seq", seq);
        g.writeStringField("head", previous);
        g.writeBooleanField("final", last);
        g.writeStringField("key", cp.keyName());
        g.writeStringField("scheme", cp.scheme());
        g.writeStringField("sig", java.util.Base64.getEncoder().encodeToString(sig));
        g.writeStringField("prev", previous);
        g.writeEndObject();
      }
      emit(buf.sb.toString());
      checkpointSeq = seq;
      linesSinceCheckpoint = 0;
      lastCheckpointNanos = System.nanoTime();
    } catch (IOException ex) {
      writeFailed("checkpoint write", ex);
    }
  }

  private void writeFailed(String what, IOException ex) {
    batchFailed = true;
    if (healthy) {
      log.error(
          "audit log {} failed: {}; {}",
          what,
          ex.getMessage(),
          options.onFailure() == OnFailure.REFUSE
              ? "operations are refused until it can be written (audit.onFailure: refuse)"
              : "serving on unaudited (audit.onFailure: continue)");
    }
    healthy = false;
  }

  private void flushQuietly() {
    if (out == null) {
      return;
    }
    try {
      out.flush();
      if (!batchFailed && !healthy) {
        log.warn("audit log writable again; operations are accepted");
      }
      healthy = !batchFailed;
    } catch (IOException e) {
      writeFailed("flush", e);
    }
    batchFailed = false;
  }

  /** Waits until every event recorded so far is written and flushed (at most 10 s). */
  public void flush() {
    long target = accepted.get();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (written < target && writer.isAlive() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() throws IOException {
    if (writer.isAlive()) {
      try {
        queue.put(POISON);
        writer.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (out != null) {
      out.close();
    }
  }

  /** A Writer over a reusable StringBuilder, for the generator. */
  private static final class StringBuilderWriter extends java.io.Writer {
    final StringBuilder sb = new StringBuilder(512);

    @Override
    public void write(char[] cbuf, int off, int len) {
      sb.append(cbuf, off, len);
    }

    @Override
    public void write(String str, int off, int len) {
      sb.append(str, off, off + len);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  /**
   * Checks a file's chain. Returns -1 when intact, else the 1-based number of the first line that
   * does not chain (or is not valid JSON). {@link AuditVerifier} gives the full report.
   */
  public static long verify(Path file) throws IOException {
    AuditVerifier.Report r = AuditVerifier.verify(List.of(file), null);
    return r.intact() ? -1 : r.brokenLine();
  }

  private static String chainHash(MessageDigest md, String previous, String content) {
    md.reset();
    md.update(previous.getBytes(StandardCharsets.US_ASCII));
    md.update(content.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(md.digest());
  }
}
