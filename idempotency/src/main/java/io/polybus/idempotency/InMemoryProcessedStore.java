package io.polybus.idempotency;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link ProcessedStore} in this process's memory, bounded in size and in age.
 *
 * <ul>
 *   <li><b>Size</b>: at most {@link Builder#maxEntries(int) maxEntries} marks (default 100 000);
 *       marking one more forgets the oldest.
 *   <li><b>Age</b>: a mark older than {@link Builder#retention(Duration) retention} (default 1
 *       hour) is forgotten.
 * </ul>
 *
 * A forgotten mark means a copy of that message arriving later is handled again: this store removes
 * the duplicates that arrive within the retention and the last {@code maxEntries} marks, which
 * covers a redelivery after a failed ack, SQS's occasional second copy and a producer's retry, but
 * not a redrive of a dead letter days later, nor anything across a restart (marks live only as long
 * as the store) or across processes (each has its own). For those, use a shared durable store such
 * as {@link JdbcProcessedStore}.
 *
 * <p>Thread-safe (one lock; every operation is a few map operations under it). Ages are measured
 * with the builder's {@link Clock}; marks are kept in the order they were made, so a clock that
 * goes backwards only delays the expiry of the marks made before it did.
 */
public final class InMemoryProcessedStore implements ProcessedStore {
  private record Mark(String group, String messageId) {}

  private final int maxEntries;
  private final Duration retention;
  private final Clock clock;

  /** Mark to the epoch millisecond it was made; iteration order = order of marking. */
  private final LinkedHashMap<Mark, Long> marks = new LinkedHashMap<>();

  private InMemoryProcessedStore(Builder b) {
    this.maxEntries = b.maxEntries;
    this.retention = b.retention;
    this.clock = b.clock;
  }

  /** A store with the defaults: 100 000 marks, kept 1 hour. */
  public static InMemoryProcessedStore create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public int maxEntries() {
    return maxEntries;
  }

  public Duration retention() {
    return retention;
  }

  /** How many marks the store holds now (expired ones not counted). */
  public synchronized int size() {
    expire();
    return marks.size();
  }

  @Override
  public synchronized boolean isProcessed(String group, String messageId) {
    Mark m = mark(group, messageId);
    expire();
    return marks.containsKey(m);
  }

  @Override
  public synchronized boolean markProcessed(String group, String messageId) {
    Mark m = mark(group, messageId);
    expire();
    if (marks.containsKey(m)) {
      return false;
    }
    marks.put(m, clock.millis());
    Iterator<Long> oldest = marks.values().iterator();
    while (marks.size() > maxEntries) {
      oldest.next();
      oldest.remove();
    }
    return true;
  }

  @Override
  public synchronized long purgeMarkedBefore(Instant cutoff) {
    long before = cutoff.toEpochMilli();
    long purged = 0;
    // All of them, not only a prefix: after a clock step backwards, an old mark may follow a new
    // one.
    for (Iterator<Long> it = marks.values().iterator(); it.hasNext(); ) {
      if (it.next() < before) {
        it.remove();
        purged++;
      }
    }
    return purged;
  }

  /** Drops the expired marks at the head (the oldest); must hold the lock. */
  private void expire() {
    assert Thread.holdsLock(this);
    long oldestKept = clock.millis() - retention.toMillis();
    for (Iterator<Map.Entry<Mark, Long>> it = marks.entrySet().iterator(); it.hasNext(); ) {
      if (it.next().getValue() >= oldestKept) {
        return;
      }
      it.remove();
    }
  }

  private static Mark mark(String group, String messageId) {
    return new Mark(
        Objects.requireNonNull(group, "group"), Objects.requireNonNull(messageId, "messageId"));
  }

  @Override
  public String toString() {
    return "InMemoryProcessedStore{maxEntries=" + maxEntries + ", retention=" + retention + "}";
  }

  /** Builds an {@link InMemoryProcessedStore}. Not thread-safe; each {@link #build()} a new one. */
  public static final class Builder {
    private int maxEntries = 100_000;
    private Duration retention = Duration.ofHours(1);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The most marks kept, at least 1; marking one more forgets the oldest. */
    public Builder maxEntries(int maxEntries) {
      if (maxEntries < 1) {
        throw new IllegalArgumentException("maxEntries must be at least 1, was " + maxEntries);
      }
      this.maxEntries = maxEntries;
      return this;
    }

    /** How long a mark is kept, more than zero. */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException("retention must be positive, was " + retention);
      }
      this.retention = retention;
      return this;
    }

    /** The clock ages are measured by (for tests); default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public InMemoryProcessedStore build() {
      return new InMemoryProcessedStore(this);
    }
  }
}
