package dev.keyhold.service.keys;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded executor that PKCS#11 calls run on: as many threads as the HSM has sessions for us, a
 * bounded queue behind them, and immediate rejection beyond that, which the API turns into
 * RESOURCE_EXHAUSTED. PKCS#11 calls block; keeping them off gRPC's threads keeps the transport
 * responsive.
 *
 * <p>Queued work runs first come, first served, but an idle thread is woken <em>last idle, first
 * woken</em>: a call that finds no queue goes to the thread that finished most recently, whose
 * caches (and the HSM session it just used) are still warm. A {@code ThreadPoolExecutor} wakes the
 * thread that has waited longest, so at low load each call ran on a cold thread: measured at one
 * call at a time against SoftHSM (RSA-2048 sign, same run), four threads in rotation cost about 60
 * µs of CPU and 90 µs of latency per call more than one thread. With this executor the threads
 * beyond the first wake only when calls overlap.
 */
public final class HsmExecutor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HsmExecutor.class);

  private final int maxStuck;
  private final int capacity;
  private final AtomicInteger stuck = new AtomicInteger();
  private volatile IntConsumer stuckListener = n -> {};

  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock:
  private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
  private final ArrayDeque<Worker> idle = new ArrayDeque<>();
  private boolean shutdown;

  private final List<Worker> workers = new ArrayList<>();

  /** An executor that counts no more than {@code threads / 2} (at least 1) stuck threads. */
  public HsmExecutor(int threads, int queue) {
    this(threads, queue, Math.max(1, threads / 2));
  }

  /**
   * {@code maxStuck}: how many threads may be stuck in an HSM call past their caller's deadline
   * before {@link #tooManyStuck()} says so and new calls are refused at once.
   */
  public HsmExecutor(int threads, int queue, int maxStuck) {
    if (threads < 1) {
      throw new IllegalArgumentException("an HSM executor needs at least one thread: " + threads);
    }
    this.maxStuck = maxStuck;
    this.capacity = Math.max(1, queue);
    for (int i = 1; i <= threads; i++) {
      Worker w = new Worker("keyhold-hsm-" + i);
      workers.add(w);
    }
    workers.forEach(w -> w.thread.start());
  }

  /** Runs the task, or returns false at once when the executor is full (or closed). */
  public boolean trySubmit(Runnable task) {
    Worker wake;
    lock.lock();
    try {
      if (shutdown) {
        return false;
      }
      wake = idle.pollFirst();
      if (wake != null) {
        wake.task = task;
        wake.idle = false;
      } else if (queue.size() < capacity) {
        queue.addLast(task);
        return true;
      } else {
        return false;
      }
    } finally {
      lock.unlock();
    }
    LockSupport.unpark(wake.thread);
    return true;
  }

  public int threads() {
    return workers.size();
  }

  /**
   * Threads of the pool alive now, each with its own HSM session in use while it runs a call: flat
   * over a soak unless threads die or leak.
   */
  public int liveThreads() {
    int n = 0;
    for (Worker w : workers) {
      if (w.thread.isAlive()) {
        n++;
      }
    }
    return n;
  }

  /** Threads waiting for a call now. */
  public int idleThreads() {
    lock.lock();
    try {
      return idle.size();
    } finally {
      lock.unlock();
    }
  }

  /** Calls waiting for a thread now. */
  public int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
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

  /**
   * Accepts no more calls, lets the queued and running ones finish (5 s at most), then interrupts
   * what still runs.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      shutdown = true;
    } finally {
      lock.unlock();
    }
    workers.forEach(w -> LockSupport.unpark(w.thread));
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    try {
      for (Worker w : workers) {
        long left = end - System.nanoTime();
        if (left > 0) {
          w.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      queue.clear();
    } finally {
      lock.unlock();
    }
    workers.stream().filter(w -> w.thread.isAlive()).forEach(w -> w.thread.interrupt());
  }

  private final class Worker implements Runnable {
    final Thread thread;
    // Guarded by lock:
    Runnable task;
    boolean idle;

    Worker(String name) {
      thread = new Thread(this, name);
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      while (true) {
        Runnable next;
        lock.lock();
        try {
          if (task != null) {
            next = task;
            task = null;
          } else if (!queue.isEmpty()) {
            next = queue.pollFirst();
          } else if (shutdown) {
            return;
          } else {
            next = null;
            if (!idle) {
              idle = true;
              HsmExecutor.this.idle.addFirst(this);
            }
          }
        } finally {
          lock.unlock();
        }
        if (next == null) {
          LockSupport.park(HsmExecutor.this);
          continue;
        }
        try {
          next.run();
        } catch (RuntimeException | Error e) {
          // Tasks answer their own failures; whatever escapes must not cost a thread (and with it
          // an HSM session) for the rest of the process's life.
          log.error("an HSM task failed outside its own error handling", e);
        }
      }
    }
  }
}
