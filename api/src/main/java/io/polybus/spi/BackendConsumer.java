package io.polybus.spi;

import java.time.Duration;
import java.util.List;

/**
 * One member of a group, as the runtime drives it. Owned by exactly one runtime subscription.
 *
 * <p>Threading: {@link #poll} is called by a single thread at a time (the subscription's poll
 * thread); {@link #wakeup()} and {@link #close()} may be called from any thread; the settling
 * methods of the {@link InboundRecord}s it returned may be called from any thread, concurrently,
 * before or after close.
 *
 * <p>Flow control is the runtime's: it never asks for more records than it has room for, so a
 * backend must not buffer more than it was asked for beyond what its broker protocol forces (a
 * prefetch sized from {@link ConsumerSpec#maxInFlight()}).
 */
public interface BackendConsumer extends AutoCloseable {
  /**
   * Returns between 1 and {@code max} records, waiting up to {@code timeout} for the first one; an
   * empty list when none arrived in time, after {@link #wakeup()}, or after {@link #close()}. Each
   * returned record is leased to this member until settled. With {@link io.polybus.Ordering#KEY},
   * records of one key are returned in publish order and never while an earlier record of that key
   * is unsettled at another member.
   *
   * <p>A call to poll is also this member's heartbeat: the runtime calls it at least every {@code
   * ackTimeout / 3} while the subscription is open, with {@code max} 0 when it has no room, in
   * which case the backend returns an empty list at once.
   */
  List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException;

  /** Makes a blocked or the next {@link #poll} return promptly. Thread-safe. */
  void wakeup();

  /**
   * Leaves the group: every record leased to this member and not yet settled goes back to the group
   * at once, with its delivery count kept, for another member (or a later one). Settling calls on
   * those records after close are ignored. Idempotent.
   */
  @Override
  void close();
}
