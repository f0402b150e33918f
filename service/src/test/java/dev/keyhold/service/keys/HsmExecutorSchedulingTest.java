package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.HealthProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How the HSM executor schedules: bounded (refuses at once past threads + queue), queued calls
 * first come first served, an idle thread woken last-idle-first (so calls one at a time stay on one
 * warm thread), and a task that throws does not cost a thread.
 */
class HsmExecutorSchedulingTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void oneCallAtATime_runsOnTheThreadThatFinishedLast() throws Exception {
    try (HsmExecutor executor = new HsmExecutor(4, 16)) {
      HealthProbe.await("all threads idle", WAIT, () -> executor.idleThreads() == 4);
      List<Thread> ran = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        CountDownLatch done = new CountDownLatch(1);
        assertThat(
                executor.trySubmit(
                    () -> {
                      ran.add(Thread.currentThread());
                      done.countDown();
                    }))
            .isTrue();
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        HealthProbe.await("the thread idle again", WAIT, () -> executor.idleThreads() == 4);
      }
      // A ThreadPoolExecutor wakes the longest-waiting thread: all four in turn.
      assertThat(new HashSet<>(ran)).hasSize(1);
      assertThat(ran.get(0).getName()).startsWith("keyhold-hsm-");
    }
  }

  @Test
  void overlappingCalls_useEveryThread_thenQueueInOrder_thenAreRefused() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch allRunning = new CountDownLatch(3);
    Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Integer> order = new CopyOnWriteArrayList<>();
    try (HsmExecutor executor = new HsmExecutor(3, 2)) {
      for (int i = 0; i < 3; i++) {
        assertThat(
                executor.trySubmit(
                    () -> {
                      threads.add(Thread.currentThread());
                      allRunning.countDown();
                      await(release);
                    }))
            .isTrue();
      }
      assertThat(allRunning.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(threads).hasSize(3);
      assertThat(executor.idleThreads()).isZero();
      CountDownLatch queuedDone = new CountDownLatch(2);
      for (int i = 1; i <= 2; i++) {
        int n = i;
        assertThat(
                executor.trySubmit(
                    () -> {
                      order.add(n);
                      queuedDone.countDown();
                    }))
            .isTrue();
      }
      assertThat(executor.queued()).isEqualTo(2);
      // Threads busy and the queue full: refused at once, nothing runs it.
      assertThat(executor.trySubmit(() -> order.add(99))).isFalse();
      release.countDown();
      assertThat(queuedDone.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(order).containsExactly(1, 2);
      HealthProbe.await("all idle", WAIT, () -> executor.idleThreads() == 3);
      assertThat(order).containsExactly(1, 2);
    }
  }

  /**
   * A burst of threads + queue calls submitted at once is accepted: idle threads take calls
   * directly. (The ThreadPoolExecutor before it passed every call through the queue to its
   * prestarted threads, so a burst larger than {@code hsm.queue} was refused while threads idled.)
   */
  @Test
  void aBurstAsLargeAsThreadsPlusQueue_isAccepted_atOnce() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(3);
    try (HsmExecutor executor = new HsmExecutor(2, 1)) {
      HealthProbe.await("all threads idle", WAIT, () -> executor.idleThreads() == 2);
      try {
        for (int i = 0; i < 3; i++) {
          assertThat(
                  executor.trySubmit(
                      () -> {
                        await(release);
                        done.countDown();
                      }))
              .isTrue();
        }
        assertThat(executor.trySubmit(() -> {})).isFalse();
      } finally {
        release.countDown();
      }
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void aTaskThatThrows_keepsItsThread() throws Exception {
    try (HsmExecutor executor = new HsmExecutor(1, 4)) {
      CountDownLatch thrown = new CountDownLatch(1);
      assertThat(
              executor.trySubmit(
                  () -> {
                    thrown.countDown();
                    throw new IllegalStateException("escaped a task on purpose");
                  }))
          .isTrue();
      assertThat(thrown.await(30, TimeUnit.SECONDS)).isTrue();
      CountDownLatch next = new CountDownLatch(1);
      assertThat(executor.trySubmit(next::countDown)).isTrue();
      assertThat(next.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(executor.liveThreads()).isEqualTo(1);
    }
  }

  @Test
  void close_finishesQueuedCalls_thenRefusesNewOnes() throws Exception {
    HsmExecutor executor = new HsmExecutor(1, 8);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> ran = new CopyOnWriteArrayList<>();
    assertThat(executor.trySubmit(() -> await(release))).isTrue();
    for (int i = 0; i < 3; i++) {
      int n = i;
      assertThat(executor.trySubmit(() -> ran.add(n))).isTrue();
    }
    Thread closer = new Thread(executor::close);
    closer.start();
    HealthProbe.await("refusing", WAIT, () -> !executor.trySubmit(() -> {}));
    assertThat(executor.trySubmit(() -> ran.add(99))).isFalse();
    release.countDown();
    closer.join(30_000);
    assertThat(closer.isAlive()).isFalse();
    assertThat(ran).containsExactly(0, 1, 2);
    assertThat(executor.liveThreads()).isZero();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
