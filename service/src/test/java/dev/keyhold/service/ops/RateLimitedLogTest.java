package dev.keyhold.service.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** One line per interval, then the count of what was suppressed; the clock is a counter. */
class RateLimitedLogTest {
  @Test
  void oneLinePerInterval_thenTheSuppressedCount() {
    Logger logger = (Logger) LoggerFactory.getLogger("rate-limited-log-test");
    ListAppender<ILoggingEvent> out = new ListAppender<>();
    out.start();
    logger.addAppender(out);
    AtomicLong now = new AtomicLong(1_000);
    RateLimitedLog log = new RateLimitedLog(logger, TimeUnit.SECONDS.toNanos(10), now::get);

    for (int i = 0; i < 1000; i++) {
      log.warn("bad request " + i);
    }
    assertThat(out.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly("bad request 0");

    now.addAndGet(TimeUnit.SECONDS.toNanos(10));
    log.warn("bad request again");
    log.warn("and again");
    assertThat(out.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly("bad request 0", "bad request again (999 similar lines suppressed)");
    assertThat(out.list).allMatch(e -> e.getThrowableProxy() == null);
  }
}
