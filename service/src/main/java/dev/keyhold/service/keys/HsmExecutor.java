package dev.keyhold.service.keys;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded executor that PKCS#11 calls run on: as many threads as the HSM has sessions for us, a
 * bounded queue behind them, and immediate rejection beyond that, which the API turns into
 * RESOURCE_EXHAUSTED. PKCS#11 calls block; keeping them off gRPC's threads keeps the transport
 * responsive.
 */
public final class HsmExecutor implements AutoCloseable {
  private final ThreadPoolExecutor pool;

  public HsmExecutor(int threads, int queue) {
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
