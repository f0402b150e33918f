package dev.keyhold.service.ops;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * At most one warning line per interval for a kind of event anyone can cause (malformed requests):
 * the first event of an interval is logged, the rest are counted and the next logged line says how
 * many were suppressed. Never a stack trace, so a flood of bad requests grows the log by a bounded
 * number of bytes per interval.
 */
public final class RateLimitedLog {
  private final Logger log;
  private final long intervalNanos;
  private final LongSupplier clock;
  private final AtomicLong next;
  private final AtomicLong suppressed = new AtomicLong();

  public RateLimitedLog(Logger log, long interval, TimeUnit unit) {
    this(log, unit.toNanos(interval), System::nanoTime);
  }

  RateLimitedLog(Logger log, long intervalNanos, LongSupplier clock) {
    this.log = log;
    this.intervalNanos = intervalNanos;
    this.clock = clock;
    this.next = new AtomicLong(clock.getAsLong());
  }

  /** Logs {@code message} (one line, no stack trace) unless a line was logged this interval. */
  public void warn(String message) {
    long now = clock.getAsLong();
    long due = next.get();
    if (now - due >= 0 && next.compareAndSet(due, now + intervalNanos)) {
      long before = suppressed.getAndSet(0);
      if (before > 0) {
        log.warn("{} ({} similar lines suppressed)", message, before);
      } else {
        log.warn(message);
      }
    } else {
      suppressed.incrementAndGet();
    }
  }
}
