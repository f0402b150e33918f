package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Bounded: threads plus queue, then immediate refusal; stuck threads are counted and capped. */
class HsmExecutorTest {

  @Test
  void trySubmit_fullPoolAndQueue_refusesAtOnce() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(3);
    CountDownLatch first = new CountDownLatch(1);
    CountDownLatch second = new CountDownLatch(1);
    boolean[] accepted = new boolean[4];
    try (HsmExecutor ex = new HsmExecutor(2, 1)) {
      try {
        // One at a time, so that each is running before the next: the order of the assertions.
        // (A burst is accepted too: HsmExecutorSchedulingTest.)
        accepted[0] = ex.trySubmit(held(first, release, done));
        assertThat(first.await(10, TimeUnit.SECONDS)).isTrue();
        accepted[1] = ex.trySubmit(held(second, release, done));
        assertThat(second.await(10, TimeUnit.SECONDS)).isTrue();
        accepted[2] = ex.trySubmit(done::countDown); // queued behind the two held calls
        accepted[3] = ex.trySubmit(() -> {}); // neither a thread nor a queue slot
      } finally {
        release.countDown();
      }
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(accepted).containsExactly(true, true, true, false);
  }

  private static Runnable held(
      CountDownLatch started, CountDownLatch release, CountDownLatch done) {
    return () -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      done.countDown();
    };
  }

  @Test
  void new_prestartsEveryThread() {
    try (HsmExecutor ex = new HsmExecutor(3, 1)) {
      assertThat(ex.threads()).isEqualTo(3);
      assertThat(ex.liveThreads()).isEqualTo(3);
    }
  }

  @Test
  void threads_areDaemonsNamedAfterTheHsm_evenWhenCreatedByANonDaemonThread() throws Exception {
    AtomicReference<HsmExecutor> made = new AtomicReference<>();
    Thread creator = new Thread(() -> made.set(new HsmExecutor(1, 1)));
    creator.setDaemon(false);
    creator.start();
    creator.join();
    AtomicReference<Thread> seen = new AtomicReference<>();
    CountDownLatch ran = new CountDownLatch(1);
    try (HsmExecutor ex = made.get()) {
      assertThat(
              ex.trySubmit(
                  () -> {
                    seen.set(Thread.currentThread());
                    ran.countDown();
                  }))
          .isTrue();
      assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(seen.get().isDaemon()).isTrue();
    assertThat(seen.get().getName()).isEqualTo("keyhold-hsm-1");
  }

  @Test
  void close_callStillRunningAfterTheGracePeriod_isInterrupted() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    HsmExecutor ex = new HsmExecutor(1, 1);
    ex.trySubmit(
        () -> {
          started.countDown();
          try {
            never.await();
          } catch (InterruptedException e) {
            interrupted.countDown();
          }
        });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    ex.close(); // waits its 5 s grace period, then interrupts

    assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void close_waitsForRunningCalls() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finished = new CountDownLatch(1);
    HsmExecutor ex = new HsmExecutor(1, 1);
    ex.trySubmit(
        () -> {
          started.countDown();
          finished.countDown();
        });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    ex.close();

    assertThat(finished.getCount()).isZero();
    assertThat(ex.trySubmit(() -> {})).isFalse();
  }

  @Test
  void stuck_countsUpAndDownAndTellsTheListener() {
    List<Integer> heard = new ArrayList<>();
    try (HsmExecutor ex = new HsmExecutor(4, 4, 2)) {
      ex.onStuckChange(heard::add);
      assertThat(ex.maxStuckThreads()).isEqualTo(2);
      assertThat(ex.tooManyStuck()).isFalse();

      ex.stuck();
      assertThat(ex.stuckThreads()).isEqualTo(1);
      assertThat(ex.tooManyStuck()).isFalse();
      ex.stuck();
      assertThat(ex.stuckThreads()).isEqualTo(2);
      assertThat(ex.tooManyStuck()).isTrue();
      ex.unstuck();

      assertThat(ex.stuckThreads()).isEqualTo(1);
      assertThat(ex.tooManyStuck()).isFalse();
      assertThat(heard).containsExactly(1, 2, 1);
    }
  }

  @Test
  void maxStuck_defaultsToHalfTheThreadsAndAtLeastOne() {
    try (HsmExecutor eight = new HsmExecutor(8, 1);
        HsmExecutor one = new HsmExecutor(1, 1)) {
      assertThat(eight.maxStuckThreads()).isEqualTo(4);
      assertThat(one.maxStuckThreads()).isEqualTo(1);
    }
  }
}
