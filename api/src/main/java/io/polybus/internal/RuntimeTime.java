package io.polybus.internal;

import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;

/**
 * Not API. Time as the delivery runtime sees it: the monotonic clock its heartbeats follow, the
 * wall clock of dead-letter timestamps, and the delayed tasks of in-place retries and dead-letter
 * publish retries. One per bus, shared by its subscriptions; thread-safe. The bus uses {@link
 * SystemTime}; the runtime's unit tests drive a manual one, so retries and heartbeats are tested
 * without sleeping.
 *
 * <p>Draining and joining threads on close stay on real time: they wait for real threads.
 */
interface RuntimeTime {
  /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
  long nanoTime();

  /** The wall clock. */
  Instant now();

  /**
   * Runs {@code task} once, after at least {@code delayNanos}, on a thread of this time's own.
   *
   * @throws RejectedExecutionException once the bus has closed
   */
  void schedule(Runnable task, long delayNanos);
}
