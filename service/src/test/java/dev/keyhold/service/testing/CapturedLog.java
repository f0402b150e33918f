package dev.keyhold.service.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What one logger wrote while attached, safe to read while server threads still log.
 *
 * <p>{@link ListAppender#list} is a plain {@code ArrayList} that {@code AppenderBase.doAppend}
 * fills while holding the appender's monitor; streaming it unlocked from the test thread threw
 * {@code ConcurrentModificationException} in CI. Every read here copies under that monitor.
 */
public final class CapturedLog implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private CapturedLog(Class<?> source) {
    this.logger = (Logger) LoggerFactory.getLogger(source);
    appender.start();
    logger.addAppender(appender);
  }

  /** Starts capturing what {@code source}'s logger writes. */
  public static CapturedLog of(Class<?> source) {
    return new CapturedLog(source);
  }

  /** A snapshot of the events logged so far. */
  public List<ILoggingEvent> events() {
    synchronized (appender) { // the lock AppenderBase.doAppend holds while it appends
      return List.copyOf(new ArrayList<>(appender.list));
    }
  }

  /** A snapshot of the formatted messages logged so far. */
  public List<String> messages() {
    return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
