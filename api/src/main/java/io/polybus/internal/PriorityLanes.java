package io.polybus.internal;

import io.polybus.spi.BackendConsumer;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One member of a group on a topic and on its high-priority lane ({@link
 * io.polybus.spi.PortableNames#priorityLane}), seen by the runtime as one consumer: each poll takes
 * what the high lane has waiting before it looks at the normal one, so a subscription that is
 * behind is handed its waiting high-priority messages first (after at most the {@code maxInFlight}
 * deliveries it already holds). Records keep their own lane's settle methods; the runtime settles
 * them without knowing which lane they came from.
 *
 * <p>Owns both consumers. Threading as {@link BackendConsumer}: {@link #poll} from one thread,
 * {@link #wakeup()} and {@link #close()} from any.
 */
final class PriorityLanes implements BackendConsumer {
  /**
   * While both lanes are empty each is asked in turn with at most this wait, so a high message
   * arriving at an idle subscription waits at most about this long for its lane's turn.
   */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /**
   * While the high lane keeps returning records the normal one is still polled this often, with
   * {@code max} 0: a poll is a member's heartbeat, and a normal lane left unpolled would be taken
   * for dead and its leases given to other members.
   */
  private static final long HEARTBEAT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final BackendConsumer high;
  private final BackendConsumer normal;
  private volatile boolean woken;

  /** When the normal lane was last polled; poll thread only. */
  private long normalPolled = System.nanoTime();

  PriorityLanes(BackendConsumer high, BackendConsumer normal) {
    this.high = high;
    this.normal = normal;
  }

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
    if (max <= 0) {
      // A heartbeat: both members must show they are alive.
      high.poll(0, Duration.ZERO);
      normalPolled = System.nanoTime();
      return normal.poll(0, Duration.ZERO);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean first = true;
    while (true) {
      List<InboundRecord> h = high.poll(max, first ? Duration.ZERO : slice(deadline));
      if (!h.isEmpty()) {
        if (System.nanoTime() - normalPolled > HEARTBEAT_NANOS) {
          normal.poll(0, Duration.ZERO);
          normalPolled = System.nanoTime();
        }
        return h;
      }
      first = false;
      List<InboundRecord> n = normal.poll(max, slice(deadline));
      normalPolled = System.nanoTime();
      if (!n.isEmpty() || woken || System.nanoTime() - deadline >= 0) {
        woken = false;
        return n;
      }
    }
  }

  private static Duration slice(long deadline) {
    long left = deadline - System.nanoTime();
    return Duration.ofNanos(Math.max(0, Math.min(left, SLICE_NANOS)));
  }

  @Override
  public void wakeup() {
    woken = true;
    high.wakeup();
    normal.wakeup();
  }

  @Override
  public void close() {
    try {
      high.close();
    } finally {
      normal.close();
    }
  }
}
