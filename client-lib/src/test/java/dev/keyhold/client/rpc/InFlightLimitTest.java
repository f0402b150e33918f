package dev.keyhold.client.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The in-flight bound, over a recording channel: a call past the bound is refused before anything
 * reaches the channel, and a permit comes back exactly once when a call closes or fails to start.
 */
class InFlightLimitTest {
  private static final MethodDescriptor<SignRequest, SignResponse> SIGN =
      KeyServiceGrpc.getSignMethod();

  /** What the channel's calls were asked to do, in order. */
  private final List<String> sent = new ArrayList<>();

  private final List<ClientCall.Listener<SignResponse>> started = new ArrayList<>();
  private RuntimeException failStart;

  private final Channel channel =
      new Channel() {
        @Override
        @SuppressWarnings("unchecked")
        public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> m, CallOptions o) {
          return new ClientCall<Q, R>() {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
              if (failStart != null) {
                throw failStart;
              }
              sent.add("start");
              started.add((Listener<SignResponse>) listener);
            }

            @Override
            public void request(int n) {
              sent.add("request " + n);
            }

            @Override
            public void cancel(String message, Throwable cause) {
              sent.add("cancel " + message);
            }

            @Override
            public void halfClose() {
              sent.add("halfClose");
            }

            @Override
            public void sendMessage(Q message) {
              sent.add("sendMessage");
            }
          };
        }

        @Override
        public String authority() {
          return "keyhold.test";
        }
      };

  /** A caller's listener that records how its call closed. */
  private static final class Closes extends ClientCall.Listener<SignResponse> {
    final List<Status> statuses = new ArrayList<>();

    @Override
    public void onClose(Status status, Metadata trailers) {
      statuses.add(status);
    }
  }

  private ClientCall<SignRequest, SignResponse> call(InFlightLimit limit) {
    return limit.interceptCall(SIGN, CallOptions.DEFAULT, channel);
  }

  @Test
  void start_underBound_forwardsEverything() {
    InFlightLimit limit = new InFlightLimit(2);
    ClientCall<SignRequest, SignResponse> c = call(limit);
    Closes l = new Closes();
    c.start(l, new Metadata());
    c.request(1);
    c.sendMessage(SignRequest.getDefaultInstance());
    c.halfClose();
    c.cancel("stop", null);
    assertThat(sent)
        .containsExactly("start", "request 1", "sendMessage", "halfClose", "cancel stop");
    assertThat(limit.current()).isEqualTo(1);
  }

  @Test
  void start_pastBound_refusedLocallyWithReason() {
    InFlightLimit limit = new InFlightLimit(1);
    call(limit).start(new Closes(), new Metadata());
    ClientCall<SignRequest, SignResponse> over = call(limit);
    Closes l = new Closes();
    over.start(l, new Metadata());
    over.request(1);
    over.sendMessage(SignRequest.getDefaultInstance());
    over.halfClose();
    over.cancel("late", null);
    assertThat(sent).containsExactly("start"); // the refused call reached nothing
    assertThat(l.statuses).hasSize(1);
    Status s = l.statuses.get(0);
    assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(s.getDescription())
        .startsWith("Keyhold client: 1 calls already in flight (maxInFlight 1), Sign refused");
    assertThat(limit.current()).isEqualTo(1);
  }

  @Test
  void refusal_carriesErrorInfoReason() {
    InFlightLimit limit = new InFlightLimit(1);
    call(limit).start(new Closes(), new Metadata());
    List<Metadata> trailers = new ArrayList<>();
    call(limit)
        .start(
            new ClientCall.Listener<SignResponse>() {
              @Override
              public void onClose(Status status, Metadata t) {
                trailers.add(t);
                assertThat(KeyholdClient.toException(status.asRuntimeException(t)).reason())
                    .isEqualTo(KeyholdException.REASON_IN_FLIGHT_LIMIT);
              }
            },
            new Metadata());
    assertThat(trailers).hasSize(1);
  }

  @Test
  void onClose_releasesOnce_nextCallAdmitted() {
    InFlightLimit limit = new InFlightLimit(1);
    Closes first = new Closes();
    call(limit).start(first, new Metadata());
    assertThat(limit.current()).isEqualTo(1);
    started.get(0).onClose(Status.OK, new Metadata());
    assertThat(limit.current()).isZero();
    started.get(0).onClose(Status.CANCELLED, new Metadata()); // a second close frees nothing
    assertThat(first.statuses).containsExactly(Status.OK, Status.CANCELLED);
    assertThat(limit.current()).isZero();
    Closes second = new Closes();
    call(limit).start(second, new Metadata());
    assertThat(second.statuses).isEmpty();
    assertThat(limit.current()).isEqualTo(1);
    Closes third = new Closes();
    call(limit).start(third, new Metadata());
    assertThat(third.statuses)
        .extracting(Status::getCode)
        .containsExactly(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void start_delegateThrows_permitReturned() {
    InFlightLimit limit = new InFlightLimit(1);
    failStart = new IllegalStateException("channel shut down");
    assertThatThrownBy(() -> call(limit).start(new Closes(), new Metadata())).isSameAs(failStart);
    assertThat(limit.current()).isZero();
    failStart = null;
    Closes l = new Closes();
    call(limit).start(l, new Metadata());
    assertThat(l.statuses).isEmpty();
    assertThat(sent).containsExactly("start");
  }
}
