package io.polybus.internal;

import java.time.Instant;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Not API. The JVM's clocks and one daemon timer thread, {@code polybus-timer}; closed with its
 * bus.
 */
final class SystemTime implements RuntimeTime, AutoCloseable {
  private final ScheduledThreadPoolExecutor timer;

  SystemTime() {
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "polybus-timer");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public Instant now() {
    return Instant.now();
  }

  @Override
  public void schedule(Runnable task, long delayNanos) {
    timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
  }

  /** Drops pending tasks: their records are given back by the consumers' close. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}
