package dev.keyhold.service.grpc;

import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmExecutor;
import dev.keyhold.service.ops.ApiOperation;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a blocking HSM step on the bounded {@link HsmExecutor}, in the call's gRPC Context (so the
 * audit line carries the caller and request id), and only while the call still has a caller: an
 * expired deadline or a cancelled call never reaches the HSM. A full executor is refused at once,
 * and so is every operation while the audit log cannot be written ({@code audit.onFailure:
 * refuse}).
 */
final class HsmDispatcher {
  /** A blocking HSM step. */
  @FunctionalInterface
  interface HsmCall<T> {
    T run() throws GeneralSecurityException, KeyholdStatusException;
  }

  private final HsmExecutor executor;
  private final CallRecorder recorder;

  HsmDispatcher(HsmExecutor executor, CallRecorder recorder) {
    this.executor = executor;
    this.recorder = recorder;
  }

  <T> void execute(
      ApiOperation op,
      String keyName,
      String scheme,
      long start,
      StreamObserver<T> obs,
      HsmCall<T> call) {
    if (recorder.auditRefusing()) {
      recorder.fail(
          op,
          keyName,
          scheme,
          start,
          obs,
          Errors.of(
              Status.Code.UNAVAILABLE,
              ErrorReason.AUDIT_UNAVAILABLE,
              "the audit log cannot be written, so operations are refused (audit.onFailure:"
                  + " refuse); retry later or on another replica"));
      return;
    }
    if (executor.tooManyStuck()) {
      recorder.fail(
          op,
          keyName,
          scheme,
          start,
          obs,
          Errors.of(
              Status.Code.UNAVAILABLE,
              ErrorReason.HSM_FAILURE,
              executor.stuckThreads()
                  + " HSM calls are stuck past their deadlines; retry on another replica"));
      return;
    }
    Context ctx = Context.current();
    AtomicBoolean answered = new AtomicBoolean();
    AtomicBoolean running = new AtomicBoolean();
    AtomicBoolean markedStuck = new AtomicBoolean();
    // The deadline (or a cancel) answers the call on time, even while the HSM thread is still
    // blocked in PKCS#11; that thread then counts as stuck until its call returns.
    Context.CancellationListener onDeadline =
        c -> {
          if (answered.compareAndSet(false, true)) {
            if (running.get() && markedStuck.compareAndSet(false, true)) {
              executor.stuck();
            }
            recorder.fail(op, keyName, scheme, start, obs, expired(ctx));
          }
        };
    ctx.addListener(onDeadline, Runnable::run);
    boolean accepted =
        executor.trySubmit(
            ctx.wrap(
                () -> {
                  running.set(true);
                  try {
                    checkStillWanted(ctx);
                    T result = ctx.call(() -> retryingThrottled(call, ctx.getDeadline()));
                    if (answered.compareAndSet(false, true)) {
                      recorder.succeed(op, keyName, scheme, start, obs, result);
                    }
                  } catch (Exception e) {
                    if (answered.compareAndSet(false, true)) {
                      recorder.fail(
                          op, keyName, scheme, start, obs, HsmErrorMapper.toStatus(e, op, keyName));
                    }
                  } finally {
                    ctx.removeListener(onDeadline);
                    running.set(false);
                    // Either the listener marked it stuck already, or it cannot any more.
                    if (!markedStuck.compareAndSet(false, true)) {
                      executor.unstuck();
                    }
                  }
                }));
    if (!accepted) {
      ctx.removeListener(onDeadline);
      if (!answered.compareAndSet(false, true)) {
        return;
      }
      recorder.fail(
          op,
          keyName,
          scheme,
          start,
          obs,
          Errors.of(
              Status.Code.RESOURCE_EXHAUSTED,
              ErrorReason.OVERLOADED,
              "the HSM executor is full ("
                  + executor.threads()
                  + " sessions busy and the queue is full); retry later or on another replica"));
    }
  }

  private static KeyholdStatusException expired(Context ctx) {
    Deadline deadline = ctx.getDeadline();
    // A client whose own deadline fires cancels the stream, often a moment before ours fires:
    // a cancel that close to the deadline is the deadline.
    if (deadline != null && deadline.timeRemaining(TimeUnit.MILLISECONDS) <= 100) {
      return Errors.of(
          Status.Code.DEADLINE_EXCEEDED,
          ErrorReason.DEADLINE,
          "the deadline passed while the HSM was still working; the call was answered on time");
    }
    return Errors.of(
        Status.Code.CANCELLED, ErrorReason.DEADLINE, "the call was cancelled by its caller");
  }

  /** Longest single wait between retries of a throttled call. */
  private static final long MAX_BACKOFF_MILLIS = 500;

  /** Without a deadline, how long throttled retries may go on in all. */
  private static final long NO_DEADLINE_BUDGET_MILLIS = 2000;

  /**
   * Runs the call; while the HSM answers with a throttling code, waits (10 ms, doubling, at most
   * {@value #MAX_BACKOFF_MILLIS} ms) and tries again, as long as the wait ends before the call's
   * deadline. The last throttled failure is the answer when time runs out.
   */
  static <T> T retryingThrottled(HsmCall<T> call, Deadline deadline)
      throws GeneralSecurityException, KeyholdStatusException, InterruptedException {
    long end =
        deadline != null
            ? System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS)
            : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NO_DEADLINE_BUDGET_MILLIS);
    long backoff = 10;
    while (true) {
      try {
        return call.run();
      } catch (HsmException e) {
        if (e.reason() != HsmException.Reason.THROTTLED
            || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) >= end) {
          throw e;
        }
      }
      Thread.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
    }
  }

  private static void checkStillWanted(Context ctx) throws KeyholdStatusException {
    Deadline deadline = ctx.getDeadline();
    if (deadline != null && deadline.isExpired()) {
      throw Errors.of(
          Status.Code.DEADLINE_EXCEEDED,
          ErrorReason.DEADLINE,
          "the deadline passed before the HSM was free; the operation did not run");
    }
    if (ctx.isCancelled()) {
      throw Errors.of(
          Status.Code.CANCELLED,
          ErrorReason.DEADLINE,
          "the call was cancelled before the HSM was free");
    }
  }
}
