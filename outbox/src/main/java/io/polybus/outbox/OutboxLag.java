package io.polybus.outbox;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How far an outbox's relays are behind, as the database saw it at {@code measuredAt}: an immutable
 * value, safe to share.
 *
 * @param pending committed rows waiting to be forwarded (not parked); rows of transactions still
 *     open are not counted, since no relay can see them yet
 * @param oldestPendingAge how long ago the oldest pending row was written (the database's clock at
 *     its {@code INSERT}), {@link Duration#ZERO} when nothing is pending
 * @param parked rows the relay gave up on (see {@link OutboxRelay#parked(int)}); they stay until
 *     unparked or deleted, and a growing figure wants a person's attention
 * @param measuredAt the database's clock when it counted
 */
public record OutboxLag(long pending, Duration oldestPendingAge, long parked, Instant measuredAt) {
  public OutboxLag {
    if (pending < 0 || parked < 0) {
      throw new IllegalArgumentException("pending and parked must be >= 0");
    }
    Objects.requireNonNull(oldestPendingAge, "oldestPendingAge");
    Objects.requireNonNull(measuredAt, "measuredAt");
  }
}
