package dev.keyhold.service.grpc;

import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmExecutor;
import dev.keyhold.service.ops.ApiOperation;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.security.GeneralSecurityException;

/**
 * Runs a blocking HSM step on the bounded {@link HsmExecutor}, in the call's gRPC Context (so the
 * audit line carries the caller and request id), and only while the call still has a caller: an
 * expired deadline or a cancelled call never reaches the HSM. A full executor is refused at once.
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
    Context ctx = Context.current();
    boolean accepted =
        executor.trySubmit(
            ctx.wrap(
                () -> {
                  try {
                    checkStillWanted(ctx);
                    T result = ctx.call(call::run);
                    recorder.succeed(op, keyName, scheme, start, obs, result);
                  } catch (Exception e) {
                    recorder.fail(
                        op, keyName, scheme, start, obs, HsmErrorMapper.toStatus(e, op, keyName));
                  }
                }));
    if (!accepted) {
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
