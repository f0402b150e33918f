package dev.keyhold.service.ops;

import dev.keyhold.service.keys.KeyDescription;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the expiry of the served keys' certificates: a gauge per key, {@code
 * keyhold_key_certificate_expiry_seconds{key=...}} (seconds until the leaf's notAfter, negative
 * once expired), and a WARN log line per key once it is within {@code keys.expiryWarningDays}: at
 * start-up, and at the first scrape after it crosses into that window, so a long-running service
 * warns without a timer thread of its own.
 */
public final class CertificateExpiry {
  private static final Logger log = LoggerFactory.getLogger(CertificateExpiry.class);

  private final List<Watched> keys = new ArrayList<>();
  private final Duration window;
  private final Clock clock;

  private record Watched(String name, Instant notAfter, AtomicBoolean warned) {}

  private CertificateExpiry(List<KeyDescription> keys, int warningDays, Clock clock) {
    this.window = Duration.ofDays(warningDays);
    this.clock = clock;
    for (KeyDescription d : keys) {
      this.keys.add(
          new Watched(d.name(), d.chain().get(0).getNotAfter().toInstant(), new AtomicBoolean()));
    }
  }

  /** Registers a gauge per key and logs the warnings due now. {@code warningDays} 0: no warning. */
  public static CertificateExpiry watch(
      List<KeyDescription> keys, int warningDays, MeterRegistry registry, Clock clock) {
    CertificateExpiry e = new CertificateExpiry(keys, warningDays, clock);
    for (Watched w : e.keys) {
      Gauge.builder("keyhold.key.certificate.expiry", w, e::secondsLeft)
          .description("Seconds until the key's certificate expires (negative: expired)")
          .baseUnit("seconds")
          .tag("key", w.name())
          .register(registry);
    }
    e.warnings();
    return e;
  }

  private double secondsLeft(Watched w) {
    warn(w);
    return Duration.between(clock.instant(), w.notAfter()).toSeconds();
  }

  /** Logs (once per key) and returns the warnings of keys now inside the window. */
  public List<String> warnings() {
    List<String> out = new ArrayList<>();
    for (Watched w : keys) {
      String m = warn(w);
      if (m != null) {
        out.add(m);
      }
    }
    return out;
  }

  private String warn(Watched w) {
    if (window.isZero()) {
      return null;
    }
    Duration left = Duration.between(clock.instant(), w.notAfter());
    if (left.compareTo(window) >= 0 || !w.warned().compareAndSet(false, true)) {
      return null;
    }
    String m =
        left.isNegative()
            ? "certificate of key '" + w.name() + "' EXPIRED on " + w.notAfter() + "; renew it"
            : "certificate of key '"
                + w.name()
                + "' expires on "
                + w.notAfter()
                + " (in "
                + left.toDays()
                + " days); renew it (keys csr, keys cert import)";
    log.warn(m);
    return m;
  }
}
