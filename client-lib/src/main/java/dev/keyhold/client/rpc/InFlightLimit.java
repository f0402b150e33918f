package dev.keyhold.client.rpc;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the calls one client has waiting for an answer. A call past the bound fails at once,
 * before anything is sent, with {@code RESOURCE_EXHAUSTED} and reason {@link
 * KeyholdException#REASON_IN_FLIGHT_LIMIT}: queueing more work behind a slow or unreachable service
 * would only turn its trouble into the app server's memory and thread exhaustion. Counts logical
 * calls (a call's retries and hedges are one), released when the call closes.
 */
final class InFlightLimit implements ClientInterceptor {
  private final int max;
  private final Semaphore permits;

  InFlightLimit(int max) {
    this.max = max;
    this.permits = new Semaphore(max);
  }

  int current() {
    return max - permits.availablePermits();
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return new ForwardingClientCall.SimpleForwardingClientCall<Q, R>(
        next.newCall(method, options)) {
      private boolean refused;

      @Override
      public void start(Listener<R> listener, Metadata headers) {
        if (!permits.tryAcquire()) {
          refused = true;
          StatusRuntimeException e = refusal(method.getBareMethodName());
          // Never started: the delegate needs no cancel, the caller's listener gets the refusal.
          listener.onClose(
              e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
          return;
        }
        AtomicBoolean released = new AtomicBoolean();
        Listener<R> releasing =
            new ForwardingClientCallListener.SimpleForwardingClientCallListener<R>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                if (released.compareAndSet(false, true)) {
                  permits.release();
                }
                super.onClose(status, trailers);
              }
            };
        try {
          super.start(releasing, headers);
        } catch (RuntimeException e) {
          if (released.compareAndSet(false, true)) {
            permits.release();
          }
          throw e;
        }
      }

      @Override
      public void request(int n) {
        if (!refused) {
          super.request(n);
        }
      }

      @Override
      public void sendMessage(Q message) {
        if (!refused) {
          super.sendMessage(message);
        }
      }

      @Override
      public void halfClose() {
        if (!refused) {
          super.halfClose();
        }
      }

      @Override
      public void cancel(String message, Throwable cause) {
        if (!refused) {
          super.cancel(message, cause);
        }
      }
    };
  }

  private StatusRuntimeException refusal(String methodName) {
    String msg =
        "Keyhold client: "
            + max
            + " calls already in flight (maxInFlight "
            + max
            + "), "
            + methodName
            + " refused without being sent; the service answers too slowly for this load, or"
            + " maxInFlight is too low";
    com.google.rpc.Status s =
        com.google.rpc.Status.newBuilder()
            .setCode(Status.Code.RESOURCE_EXHAUSTED.value())
            .setMessage(msg)
            .addDetails(
                Any.pack(
                    ErrorInfo.newBuilder()
                        .setReason(KeyholdException.REASON_IN_FLIGHT_LIMIT)
                        .setDomain("client.keyhold.dev")
                        .build()))
            .build();
    return StatusProto.toStatusRuntimeException(s);
  }
}
