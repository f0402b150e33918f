package dev.keyhold.client.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OffloadFailureLogTest {
  final List<String> lines = new CopyOnWriteArrayList<>();
  final Handler handler =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          lines.add(r.getLevel() + " " + new SimpleFormatter().formatMessage(r));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void attach() {
    OffloadFailureLog.LOG.addHandler(handler);
  }

  @AfterEach
  void detach() {
    OffloadFailureLog.LOG.removeHandler(handler);
  }

  @Test
  void report_sameCauseWithinTenSeconds_oneWarningThenCountOfTheRest() {
    AtomicLong now = new AtomicLong(1);
    OffloadFailureLog log = new OffloadFailureLog(now::get);
    KeyholdException down =
        new KeyholdException(
            Status.Code.UNAVAILABLE, "", "Keyhold UNAVAILABLE: io exception", null);
    KeyholdException refused =
        new KeyholdException(
            Status.Code.PERMISSION_DENIED, "POLICY_DENIED", "Keyhold PERMISSION_DENIED", null);
    log.report("h:1", "sign", "rsa2048", down);
    log.report("h:1", "sign", "rsa2048", down);
    log.report("h:1", "decrypt_premaster", "rsa2048", down);
    log.report("h:1", "sign", "ec-p256", refused);
    log.report("h:2", "sign", "rsa2048", down);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0))
        .startsWith(
            Level.WARNING + " Keyhold sign with key rsa2048 at h:1 failed: Keyhold UNAVAILABLE");
    assertThat(lines.get(1)).contains("POLICY_DENIED");
    assertThat(lines.get(2)).contains("at h:2");

    now.addAndGet(OffloadFailureLog.INTERVAL_NANOS);
    log.report("h:1", "sign", "rsa2048", down);
    assertThat(lines).hasSize(4);
    assertThat(lines.get(3)).contains("(2 more like it in the last 10 s)");
  }
}
