package dev.keyhold.service.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  @TempDir Path dir;

  private static AuditLog.Event event(int i, String outcome) {
    return new AuditLog.Event(
        Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i),
        "client-" + i,
        "req-" + i,
        "rsa2048",
        "sign",
        i % 2 == 0 ? "rsa_pkcs1_sha256" : null,
        outcome,
        100 + i);
  }

  private Path writeEvents(Path file, int from, int to) throws Exception {
    try (AuditLog log = AuditLog.open(file)) {
      for (int i = from; i < to; i++) {
        log.record(event(i, i % 3 == 0 ? "ok" : "invalid_argument"));
      }
    }
    return file;
  }

  @Test
  void verify_freshLog_isIntact() throws Exception {
    Path f = writeEvents(dir.resolve("a/audit.log"), 0, 10);

    assertThat(Files.readAllLines(f)).hasSize(10);
    assertThat(AuditLog.verify(f)).isEqualTo(-1);
  }

  @Test
  void open_existingFile_continuesTheChain() throws Exception {
    Path f = writeEvents(dir.resolve("audit.log"), 0, 3);
    writeEvents(f, 3, 6);

    assertThat(Files.readAllLines(f)).hasSize(6);
    assertThat(AuditLog.verify(f)).isEqualTo(-1);
  }

  @Test
  void verify_changedValue_reportsThatLine() throws Exception {
    Path f = writeEvents(dir.resolve("audit.log"), 0, 5);
    List<String> lines = new ArrayList<>(Files.readAllLines(f));
    lines.set(3, lines.get(3).replace("client-3", "client-9"));
    Files.write(f, lines);

    assertThat(AuditLog.verify(f)).isEqualTo(4);
  }

  @Test
  void verify_removedLine_reportsTheBreak() throws Exception {
    Path f = writeEvents(dir.resolve("audit.log"), 0, 5);
    List<String> lines = new ArrayList<>(Files.readAllLines(f));
    lines.remove(1);
    Files.write(f, lines);

    assertThat(AuditLog.verify(f)).isEqualTo(2);
  }

  @Test
  void verify_truncatedAtTheStart_isDetected() throws Exception {
    Path f = writeEvents(dir.resolve("audit.log"), 0, 5);
    List<String> lines = new ArrayList<>(Files.readAllLines(f));
    lines.remove(0);
    Files.write(f, lines);

    assertThat(AuditLog.verify(f)).isEqualTo(1);
  }

  @Test
  void record_eachLine_carriesTheEventFieldsAndNoOthers() throws Exception {
    Path f = writeEvents(dir.resolve("audit.log"), 0, 2);
    List<String> lines = Files.readAllLines(f);

    assertThat(lines.get(0))
        .startsWith(
            "{\"time\":\"2026-01-01T00:00:00Z\",\"client\":\"client-0\",\"request\":\"req-0\",\"key\":\"rsa2048\",\"op\":\"sign\",\"scheme\":\"rsa_pkcs1_sha256\",\"outcome\":\"ok\",\"latency_us\":100,\"prev\":\""
                + "0".repeat(64)
                + "\",\"hash\":\"");
    assertThat(lines.get(1)).doesNotContain("scheme");
  }

  @Test
  void record_withoutFile_logsInsteadOfFailing() throws Exception {
    try (AuditLog log = AuditLog.open(null)) {
      log.record(event(1, "ok"));
      log.flush();
    }
    assertThat(dir).isEmptyDirectory();
  }
}
