package dev.keyhold.service.keys;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The bounded executor that PKCS#11 calls run on: as many threads as the HSM has sessions for us, a
 * bounded queue behind them, and immediate rejection beyond that, which the API turns into
 * RESOURCE_EXHAUSTED. PKCS#11 calls block; keeping them off gRPC's threads keeps the transport
 * responsive.
 */
public final class HsmExecutor implements AutoCloseable {
  private final ThreadPoolExecutor pool;
  private final int maxStuck;
  private final AtomicInteger stuck = new AtomicInteger();
  private volatile IntConsumer stuckListener = n -> {};

  /** An executor that counts no more than {@code threads / 2} (at least 1) stuck threads. */
  public HsmExecutor(int threads, int queue) {
    this(threads, queue, Math.max(1, threads / 2));
  }

  /**
   * {@code maxStuck}: how many threads may be stuck in an HSM call past their caller's deadline
   * before {@link #tooManyStuck()} says so and new calls are refused at once.
   */
  public HsmExecutor(int threads, int queue, int maxStuck) {
    this.maxStuck = maxStuck;
    AtomicInteger n = new AtomicInteger();
    this.pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(Math.max(1, queue)),
            r -> {
              Thread t = new Thread(r, "keyhold-hsm-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.AbortPolicy());
    pool.prestartAllCoreThreads();
  }

  /** Runs the task, or returns false at once when the executor is full. */
  public boolean trySubmit(Runnable task) {
    try {
      pool.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  public int threads() {
    return pool.getCorePoolSize();
  }

  /**
   * Threads of the pool alive now, each with its own HSM session in use while it runs a call: flat
   * over a soak unless threads die or leak.
   */
  public int liveThreads() {
    return pool.getPoolSize();
  }

  /** A thread's call outlived its caller's deadline and is still in the HSM. */
  public void stuck() {
    stuckListener.accept(stuck.incrementAndGet());
  }

  /** A stuck thread's call returned at last. */
  public void unstuck() {
    stuckListener.accept(stuck.decrementAndGet());
  }

  /** How many threads are stuck in the HSM now. */
  public int stuckThreads() {
    return stuck.get();
  }

  public int maxStuckThreads() {
    return maxStuck;
  }

  /** Whether {@code hsm.maxStuckThreads} threads are stuck: new calls should not wait for them. */
  public boolean tooManyStuck() {
    return stuck.get() >= maxStuck;
  }

  /** Hears the number of stuck threads whenever it changes (health, metrics). */
  public void onStuckChange(IntConsumer listener) {
    this.stuckListener = listener;
  }

  @Override
  public void close() {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pool.shutdownNow();
    }
  }
}
