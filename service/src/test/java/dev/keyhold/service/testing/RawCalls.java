package dev.keyhold.service.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.slf4j.LoggerFactory;

/**
 * Calls with raw request bytes, as a hostile client sends them: the method's name with a byte-array
 * marshaller, so that nothing on the client checks what is sent. Plus a capture of everything the
 * service process logs (logback and java.util.logging, which grpc-java uses), to bound log growth.
 */
public final class RawCalls {
  private RawCalls() {}

  /** Bytes in, bytes out. */
  public static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  /** {@code method} with raw bytes for request and response. */
  public static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> method) {
    return method.toBuilder(BYTES, BYTES).build();
  }

  /** One unary call with these request bytes (30 s deadline); returns the response bytes. */
  public static byte[] call(Channel ch, MethodDescriptor<?, ?> method, byte[] request) {
    return ClientCalls.blockingUnaryCall(
        ch, raw(method), CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
  }

  /**
   * Counts what is logged while open: logback lines (message bytes, and whether any carried a stack
   * trace) and java.util.logging records.
   */
  public static final class LogCapture implements AutoCloseable {
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong lines = new AtomicLong();
    private final AtomicLong stackTraces = new AtomicLong();
    private final AtomicLong julRecords = new AtomicLong();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final AppenderBase<ILoggingEvent> appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent e) {
            lines.incrementAndGet();
            bytes.addAndGet(e.getFormattedMessage().getBytes(StandardCharsets.UTF_8).length + 40);
            if (e.getThrowableProxy() != null) {
              stackTraces.incrementAndGet();
            }
          }
        };
    private final Handler jul =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            julRecords.incrementAndGet();
            bytes.addAndGet(String.valueOf(r.getMessage()).length() + 40);
            if (r.getThrown() != null) {
              stackTraces.incrementAndGet();
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };

    public LogCapture() {
      appender.start();
      root.addAppender(appender);
      java.util.logging.Logger.getLogger("").addHandler(jul);
    }

    /** Approximate bytes logged (message plus 40 for time, level, thread and logger). */
    public long bytes() {
      return bytes.get();
    }

    public long lines() {
      return lines.get();
    }

    public long stackTraces() {
      return stackTraces.get();
    }

    public long julRecords() {
      return julRecords.get();
    }

    @Override
    public void close() {
      root.detachAppender(appender);
      java.util.logging.Logger.getLogger("").removeHandler(jul);
    }
  }
}
