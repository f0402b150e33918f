package dev.keyhold.client.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.SlowKey;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.Status;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two real replicas on the test token, one client over both (a static address list): a replica
 * whose HSM fails (a real CKR_DEVICE_ERROR from the fault shim) answers {@code UNAVAILABLE
 * HSM_FAILURE}, and gRPC's retry policy sends the call to the other; with no healthy replica the
 * call fails clearly and fast; past maxInFlight the client refuses at once.
 */
class ReplicaRetryIT {
  private static final String KEY = "ec-p256";
  private static final SignatureScheme SCHEME = SignatureScheme.ECDSA_SECP256R1_SHA256;
  private static final Duration DEADLINE = Duration.ofSeconds(2);

  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T c) {
    open.add(c);
    return c;
  }

  private static KeyholdClientConfig.Builder config(TestKeyholdService... replicas) {
    List<String> targets = new ArrayList<>();
    for (TestKeyholdService r : replicas) {
      targets.add(r.target());
    }
    TestKeyholdService any = replicas[0];
    return KeyholdClientConfig.builder()
        .targets(targets)
        .trustedCa(any.caCert())
        .clientCertificate(any.clientCert("test-client"), any.clientKey("test-client"))
        .authority("localhost")
        .deadline(DEADLINE);
  }

  private static byte[] digest(int i) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(("call " + i).getBytes());
  }

  /** A replica whose HSM answers every C_Sign with a real CKR_DEVICE_ERROR (the fault shim). */
  private TestKeyholdService brokenReplica() {
    FaultShim shim = FaultShim.create();
    TestKeyholdService svc = keep(TestKeyholdService.builder().token(shim.openToken()).start());
    shim.failFunctions(FaultShim.DEVICE_ERROR, "C_Sign");
    return svc;
  }

  private static long unavailable(TestKeyholdService svc) {
    return svc.metrics().count("sign", "unavailable");
  }

  @Test
  void sign_oneReplicaAnswersUnavailable_everyCallSucceedsOnTheOther() throws Exception {
    TestKeyholdService a = brokenReplica();
    TestKeyholdService b = keep(TestKeyholdService.start());
    // Without client-side health checking round_robin keeps giving the broken replica its share
    // (its device error takes it out of service), so every one of its calls must be retried.
    KeyholdClient client = keep(KeyholdClient.create(config(a, b).healthCheck(false).build()));
    // Until both replicas are READY round_robin uses one; sign until the broken one was picked.
    warmUp(client, () -> unavailable(a) > 0);

    long okBefore = b.metrics().count("sign", "ok");
    long failedBefore = unavailable(a);
    int calls = 40;
    for (int i = 0; i < calls; i++) {
      assertThat(client.sign(KEY, SCHEME, digest(i))).isNotEmpty();
    }

    // The broken replica was tried (and answered UNAVAILABLE HSM_FAILURE) ...
    assertThat(unavailable(a) - failedBefore).isGreaterThanOrEqualTo(calls / 4);
    assertThat(a.metrics().count("sign", "ok")).as("signatures from the broken replica").isZero();
    // ... and every call was answered by the healthy one.
    assertThat(awaitCount(() -> b.metrics().count("sign", "ok"), okBefore + calls))
        .isEqualTo(okBefore + calls);
  }

  @Test
  void sign_noReplicaHealthy_failsUnavailableWithinTheDeadlines() throws Exception {
    TestKeyholdService a = brokenReplica();
    TestKeyholdService b = brokenReplica();
    // Health checking off: the attempts must reach the replicas, which answer UNAVAILABLE.
    KeyholdClient client = keep(KeyholdClient.create(config(a, b).healthCheck(false).build()));

    long before = unavailable(a) + unavailable(b);
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> client.sign(KEY, SCHEME, digest(0)))
        .isInstanceOfSatisfying(
            KeyholdException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(e.reason()).isEqualTo("HSM_FAILURE");
              assertThat(e.isUnavailable()).isTrue();
            });
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(took).isLessThan(DEADLINE.multipliedBy(3).plusSeconds(2));
    // gRPC tried it maxAttempts (3) times, not once.
    assertThat(awaitCount(() -> unavailable(a) + unavailable(b), before + 3) - before).isEqualTo(3);

    // Both replicas gone: no address answers, the call fails as UNAVAILABLE, in time.
    a.close();
    b.close();
    long t1 = System.nanoTime();
    assertThatThrownBy(() -> client.sign(KEY, SCHEME, digest(1)))
        .isInstanceOfSatisfying(
            KeyholdException.class, e -> assertThat(e.isUnavailable()).as(e.getMessage()).isTrue());
    assertThat(Duration.ofNanos(System.nanoTime() - t1))
        .isLessThan(DEADLINE.multipliedBy(3).plusSeconds(2));
  }

  @Test
  void sign_replicaStopped_callsGoToTheOtherWithoutFailure() throws Exception {
    TestKeyholdService a = keep(TestKeyholdService.start());
    TestKeyholdService b = keep(TestKeyholdService.start());
    KeyholdClient client = keep(KeyholdClient.create(config(a, b).build()));
    long a0 = a.metrics().count("sign", "ok");
    long b0 = b.metrics().count("sign", "ok");
    warmUp(
        client, () -> a.metrics().count("sign", "ok") > a0 && b.metrics().count("sign", "ok") > b0);
    a.close();
    long before = b.metrics().count("sign", "ok");
    for (int i = 0; i < 20; i++) {
      assertThat(client.sign(KEY, SCHEME, digest(i))).isNotEmpty();
    }
    assertThat(awaitCount(() -> b.metrics().count("sign", "ok"), before + 20))
        .isEqualTo(before + 20);
  }

  @Test
  void sign_pastMaxInFlight_refusedAtOnceWithTheReason() throws Exception {
    SlowKey.Control gate = new SlowKey.Control().close();
    TestKeyholdService a =
        keep(TestKeyholdService.builder().sessions(4).decorator(gate.decorator()).start());
    KeyholdClient client =
        keep(
            KeyholdClient.create(
                config(a).maxInFlight(3).deadline(Duration.ofSeconds(20)).build()));
    try {
      List<CompletableFuture<byte[]>> held = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        held.add(client.signAsync(KEY, SCHEME, digest(i)));
      }
      awaitTrue(() -> gate.entered.get() == 3, "three calls waiting in the HSM");
      assertThat(client.inFlight()).isEqualTo(3);

      CompletableFuture<byte[]> refused = client.signAsync(KEY, SCHEME, digest(3));
      assertThat(refused).isCompletedExceptionally();
      assertThatThrownBy(refused::get)
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfSatisfying(
              KeyholdException.class,
              e -> {
                assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(e.reason()).isEqualTo(KeyholdException.REASON_IN_FLIGHT_LIMIT);
                assertThat(e.getMessage()).contains("maxInFlight 3");
              });
      // The blocking path is bounded by the same count.
      assertThatThrownBy(() -> client.getKey(KEY))
          .isInstanceOfSatisfying(
              KeyholdException.class,
              e -> assertThat(e.reason()).isEqualTo(KeyholdException.REASON_IN_FLIGHT_LIMIT));
      assertThat(gate.entered.get()).isEqualTo(3);

      gate.open();
      for (CompletableFuture<byte[]> f : held) {
        assertThat(f.get(20, TimeUnit.SECONDS)).isNotEmpty();
      }
      awaitTrue(() -> client.inFlight() == 0, "permits released");
      assertThat(client.sign(KEY, SCHEME, digest(4))).isNotEmpty();
    } finally {
      gate.open();
    }
  }

  @Test
  void sign_hedgingOn_slowReplicaDoesNotCostTheDeadline() throws Exception {
    // One replica takes three deadlines per operation. Without hedging, the calls round_robin
    // gives it would fail DEADLINE_EXCEEDED; with a 100 ms hedging delay the hedge to the fast
    // replica answers first.
    SlowKey.Control slow = new SlowKey.Control();
    TestKeyholdService a = keep(TestKeyholdService.builder().decorator(slow.decorator()).start());
    TestKeyholdService b = keep(TestKeyholdService.start());
    Duration deadline = Duration.ofSeconds(1);
    KeyholdClient client =
        keep(
            KeyholdClient.create(
                config(a, b).deadline(deadline).hedgingDelay(Duration.ofMillis(100)).build()));
    warmUp(client, () -> slow.entered.get() > 0);
    slow.delay = deadline.multipliedBy(3);
    int before = slow.entered.get();
    for (int i = 0; i < 10; i++) {
      assertThat(client.sign(KEY, SCHEME, digest(i))).isNotEmpty();
    }
    assertThat(slow.entered.get() - before).as("calls the slow replica got").isPositive();
    slow.delay = Duration.ZERO;
  }

  @Test
  void sign_replicaNotServing_getsNoCalls() throws Exception {
    TestKeyholdService a = keep(TestKeyholdService.start());
    NotServingReplica fake = keep(new NotServingReplica(a));
    KeyholdClientConfig.Builder cfg =
        KeyholdClientConfig.builder()
            .targets(List.of(a.target(), "127.0.0.1:" + fake.port()))
            .trustedCa(a.caCert())
            .clientCertificate(a.clientCert("test-client"), a.clientKey("test-client"))
            .authority("localhost")
            .deadline(Duration.ofSeconds(10)); // a cold JVM connects slowly on two shared cores
    try (KeyholdClient client = KeyholdClient.create(cfg.build())) {
      for (int i = 0; i < 30; i++) {
        assertThat(client.sign(KEY, SCHEME, digest(i))).isNotEmpty();
      }
      awaitTrue(() -> fake.healthWatches.get() > 0, "client-side health check of the replica");
      for (int i = 0; i < 30; i++) {
        assertThat(client.sign(KEY, SCHEME, digest(i))).isNotEmpty();
      }
      assertThat(fake.keyCalls.get()).as("calls sent to the NOT_SERVING replica").isZero();
    }
    // The same replicas without health checking: round_robin does pick it (so the check above is
    // what kept calls away). Its UNIMPLEMENTED is not retryable and fails the call.
    try (KeyholdClient unchecked = KeyholdClient.create(cfg.healthCheck(false).build())) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      int i = 0;
      while (fake.keyCalls.get() == 0 && System.nanoTime() < end) {
        try {
          unchecked.sign(KEY, SCHEME, digest(i++));
        } catch (KeyholdException expected) {
          assertThat(expected.code()).isEqualTo(Status.Code.UNIMPLEMENTED);
        }
      }
      assertThat(fake.keyCalls.get()).isPositive();
    }
  }

  /** Signs (each call must succeed) until {@code cond} holds. */
  private static void warmUp(KeyholdClient client, BooleanSupplier cond) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    int i = 0;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("round_robin never reached both replicas");
      }
      try {
        client.sign(KEY, SCHEME, digest(i++));
      } catch (KeyholdException e) {
        // Before the healthy replica's subchannel is READY, every attempt may go to the broken
        // one: warm-up only waits for round_robin to know both; the test's calls come after.
      }
      Thread.sleep(5);
    }
  }

  private static void awaitTrue(BooleanSupplier cond, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  private static long awaitCount(java.util.function.LongSupplier counter, long expected)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long v = counter.getAsLong();
    while (v < expected && System.nanoTime() < end) {
      Thread.sleep(10);
      v = counter.getAsLong();
    }
    return v;
  }
}
