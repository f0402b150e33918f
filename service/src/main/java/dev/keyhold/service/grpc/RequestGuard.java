package dev.keyhold.service.grpc;

import com.google.protobuf.MessageLite;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.ClientIdentity;
import dev.keyhold.service.ops.ApiOperation;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.ops.OperationMetrics;
import dev.keyhold.service.ops.RateLimitedLog;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * Answers requests whose bytes are not a valid request message, or are larger than {@code
 * maxMessageBytes}, with a precise status instead of grpc-java's {@code UNKNOWN} and stack trace.
 *
 * <p>grpc-java parses a request with the method's marshaller and turns any exception from it into
 * {@code UNKNOWN} plus a logged stack trace. So each method's request marshaller is wrapped by one
 * that never throws: it checks the size first, parses with the generated proto marshaller, and on
 * failure returns a sentinel instance of the request type. A listener in front of the method sees
 * the sentinel and closes the call: {@code INVALID_ARGUMENT}/{@code MALFORMED_REQUEST} or {@code
 * RESOURCE_EXHAUSTED}/{@code REQUEST_TOO_LARGE}, with the request id, audited and counted like any
 * failed call, logged rate-limited (one line per 10 s) without a stack trace. The method itself
 * never runs, so nothing of the request reaches the HSM.
 *
 * <p>The transport's own limit ({@link #transportLimit}) is set above {@code maxMessageBytes}, so
 * that requests up to it reach the size check here; only larger ones are reset by the transport
 * itself (RESOURCE_EXHAUSTED without a reason).
 */
public final class RequestGuard {
  private static final RateLimitedLog LOG =
      new RateLimitedLog(LoggerFactory.getLogger(RequestGuard.class), 10, TimeUnit.SECONDS);

  private RequestGuard() {}

  /** Why a request was refused before its method ran. */
  enum Rejection {
    MALFORMED(Status.Code.INVALID_ARGUMENT, ErrorReason.MALFORMED_REQUEST),
    TOO_LARGE(Status.Code.RESOURCE_EXHAUSTED, ErrorReason.REQUEST_TOO_LARGE);

    final Status.Code code;
    final ErrorReason reason;

    Rejection(Status.Code code, ErrorReason reason) {
      this.code = code;
      this.reason = reason;
    }
  }

  /**
   * The limit given to the transport: four times {@code maxMessageBytes}, at least 1 MiB. Requests
   * between the two are answered {@code REQUEST_TOO_LARGE} here.
   */
  public static int transportLimit(int maxMessageBytes) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(4L * maxMessageBytes, 1 << 20));
  }

  /** {@code service} with every method's requests guarded. */
  public static ServerServiceDefinition guard(
      ServerServiceDefinition service, int maxMessageBytes, AuditLog audit, OperationMetrics m) {
    CallRecorder recorder = new CallRecorder(audit, m);
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> def : service.getMethods()) {
      methods.add(guard(def, maxMessageBytes, recorder));
    }
    ServiceDescriptor.Builder sd =
        ServiceDescriptor.newBuilder(original.getName())
            .setSchemaDescriptor(original.getSchemaDescriptor());
    methods.forEach(d -> sd.addMethod(d.getMethodDescriptor()));
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(sd.build());
    methods.forEach(b::addMethod);
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> guard(
      ServerMethodDefinition<Q, R> def, int maxMessageBytes, CallRecorder recorder) {
    MethodDescriptor<Q, R> method = def.getMethodDescriptor();
    if (!(method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> proto)) {
      throw new IllegalStateException(method.getFullMethodName() + " is not a proto method");
    }
    GuardedMarshaller<Q> marshaller = new GuardedMarshaller<>(proto, maxMessageBytes);
    ApiOperation op = operation(method.getBareMethodName());
    ServerCallHandler<Q, R> handler = def.getServerCallHandler();
    ServerCallHandler<Q, R> guarded =
        (call, headers) ->
            new SimpleForwardingServerCallListener<Q>(handler.startCall(call, headers)) {
              private boolean rejected;

              @Override
              public void onMessage(Q message) {
                if (rejected) {
                  return;
                }
                Rejection r = marshaller.rejection(message);
                if (r == null) {
                  super.onMessage(message);
                  return;
                }
                rejected = true;
                reject(call, op, r, marshaller.describe(r), recorder);
              }

              @Override
              public void onHalfClose() {
                if (!rejected) {
                  super.onHalfClose();
                }
              }

              @Override
              public void onReady() {
                if (!rejected) {
                  super.onReady();
                }
              }
            };
    return ServerMethodDefinition.create(
        method.toBuilder(marshaller, method.getResponseMarshaller()).build(), guarded);
  }

  private static void reject(
      ServerCall<?, ?> call,
      ApiOperation op,
      Rejection r,
      String description,
      CallRecorder recorder) {
    long start = System.nanoTime();
    recorder.done(op, "-", null, r.code.name().toLowerCase(Locale.ROOT), start);
    ClientIdentity who = AuthInterceptor.IDENTITY.get();
    LOG.warn(
        "refused "
            + op.label()
            + " request "
            + AuthInterceptor.REQUEST_ID.get()
            + " from "
            + (who == null ? "-" : who.primary())
            + ": "
            + r.reason
            + " ("
            + description
            + ")");
    StatusRuntimeException e = Errors.of(r.code, r.reason, description).toStatus();
    Metadata trailers = e.getTrailers();
    call.close(e.getStatus(), trailers == null ? new Metadata() : trailers);
  }

  /** The API operation of a KeyService method: "DecryptPremaster" is decrypt_premaster. */
  static ApiOperation operation(String bareMethodName) {
    String label = bareMethodName.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    for (ApiOperation op : ApiOperation.values()) {
      if (op.label().equals(label)) {
        return op;
      }
    }
    throw new IllegalStateException("no API operation for method " + bareMethodName);
  }

  /**
   * The generated marshaller, but never throwing on a request: an oversized or unparseable one
   * becomes one of two sentinel instances, told apart from real requests by identity.
   */
  static final class GuardedMarshaller<T> implements MethodDescriptor.PrototypeMarshaller<T> {
    private final MethodDescriptor.PrototypeMarshaller<T> proto;
    private final int maxBytes;
    private final T malformed;
    private final T tooLarge;
    private final String typeName;

    GuardedMarshaller(MethodDescriptor.PrototypeMarshaller<T> proto, int maxBytes) {
      this.proto = proto;
      this.maxBytes = maxBytes;
      this.malformed = freshCopy(proto.getMessagePrototype());
      this.tooLarge = freshCopy(proto.getMessagePrototype());
      this.typeName = proto.getMessagePrototype().getClass().getSimpleName();
    }

    @SuppressWarnings("unchecked") // a proto message's builder builds the same type
    private static <T> T freshCopy(T prototype) {
      T copy = (T) ((MessageLite) prototype).toBuilder().build();
      if (copy == prototype) {
        throw new IllegalStateException("the builder returned the prototype itself");
      }
      return copy;
    }

    @Override
    public T parse(InputStream in) {
      try (in) {
        if (in instanceof KnownLength) {
          if (in.available() > maxBytes) {
            return tooLarge;
          }
          return proto.parse(in);
        }
        // A compressed request: its decompressed size is known only by reading it.
        byte[] bytes = in.readNBytes(maxBytes + 1);
        if (bytes.length > maxBytes) {
          return tooLarge;
        }
        return proto.parse(new ByteArrayInputStream(bytes));
      } catch (StatusRuntimeException e) {
        // The generated marshaller's INTERNAL "Invalid protobuf byte sequence", or the transport's
        // limit hit while decompressing.
        return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED ? tooLarge : malformed;
      } catch (IOException | RuntimeException e) {
        // Whatever else fails on these bytes (a corrupt compressed frame): they are not a request.
        return malformed;
      }
    }

    @SuppressWarnings("ReferenceEquality") // the sentinels are told apart by identity
    Rejection rejection(T message) {
      if (message == malformed) {
        return Rejection.MALFORMED;
      }
      if (message == tooLarge) {
        return Rejection.TOO_LARGE;
      }
      return null;
    }

    String describe(Rejection r) {
      return r == Rejection.MALFORMED
          ? "the request is not a valid " + typeName + " message"
          : "the request is larger than the service's limit of " + maxBytes + " bytes";
    }

    @Override
    public InputStream stream(T value) {
      return proto.stream(value);
    }

    @Override
    public T getMessagePrototype() {
      return proto.getMessagePrototype();
    }

    @Override
    public Class<T> getMessageClass() {
      return proto.getMessageClass();
    }
  }
}
