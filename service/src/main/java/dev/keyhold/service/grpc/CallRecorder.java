package dev.keyhold.service.grpc;

import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.ClientIdentity;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.ops.ApiOperation;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.ops.OperationMetrics;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts and audits every call once, with its outcome, before the caller sees the answer: what a
 * caller observed is always already in the metrics and the audit queue.
 */
final class CallRecorder {
  private static final Logger log = LoggerFactory.getLogger(CallRecorder.class);

  private final AuditLog audit;
  private final OperationMetrics metrics;

  /** Whether operations must be refused because the audit log cannot be written. */
  boolean auditRefusing() {
    return audit.refusing();
  }

  CallRecorder(AuditLog audit, OperationMetrics metrics) {
    this.audit = audit;
    this.metrics = metrics;
  }

  /** Records a finished call. */
  void done(ApiOperation op, String keyName, String scheme, String outcome, long start) {
    long nanos = System.nanoTime() - start;
    metrics.record(op.label(), outcome, nanos);
    ClientIdentity who = AuthInterceptor.IDENTITY.get();
    AtomicReference<Policy.Grant> slot = AuthInterceptor.GRANT.get();
    Policy.Grant grant = slot == null ? null : slot.get();
    ClientIdentity.Name name =
        grant != null ? grant.identity() : who == null ? null : who.primary();
    audit.record(
        new AuditLog.Event(
            Instant.now(),
            name == null ? "-" : name.value(),
            AuthInterceptor.REQUEST_ID.get(),
            keyName,
            op.label(),
            scheme,
            outcome,
            TimeUnit.NANOSECONDS.toMicros(nanos),
            name == null ? null : name.toString(),
            grant == null ? null : grant.rule()));
  }

  /** Records a failed call, then fails it. */
  <T> void fail(
      ApiOperation op,
      String keyName,
      String scheme,
      long start,
      StreamObserver<T> obs,
      KeyholdStatusException e) {
    done(op, keyName, scheme, e.code().name().toLowerCase(Locale.ROOT), start);
    try {
      obs.onError(e.toStatus());
    } catch (RuntimeException alreadyClosed) {
      log.debug("call already closed: {}", alreadyClosed.getMessage());
    }
  }

  /** Records a successful call, then answers it. */
  <T> void succeed(
      ApiOperation op, String keyName, String scheme, long start, StreamObserver<T> obs, T result) {
    done(op, keyName, scheme, "ok", start);
    obs.onNext(result);
    obs.onCompleted();
  }
}
