package io.polybus.internal;

import java.time.Instant;
import java.util.PriorityQueue;

/**
 * Time that moves only when a test says so: {@link #advance} runs, on the calling thread and in due
 * order, every task that has come due. Thread-safe.
 */
final class ManualTime implements RuntimeTime {
  private record Task(long due, long seq, Runnable run) {}

  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(
          (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
  private long now = 1_000_000_000L;
  private long seq;

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Instant now() {
    return Instant.ofEpochSecond(0, now);
  }

  @Override
  public synchronized void schedule(Runnable task, long delayNanos) {
    tasks.add(new Task(now + delayNanos, seq++, task));
  }

  /** Tasks scheduled and not yet run. */
  synchronized int pending() {
    return tasks.size();
  }

  /** Moves the clock on by {@code nanos} and runs what came due, outside the lock. */
  void advance(long nanos) {
    long target;
    synchronized (this) {
      target = now + nanos;
    }
    while (true) {
      Task t;
      synchronized (this) {
        t = tasks.peek();
        if (t == null || t.due > target) {
          now = target;
          return;
        }
        tasks.poll();
        now = Math.max(now, t.due);
      }
      t.run.run();
    }
  }
}
