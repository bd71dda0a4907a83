package io.polybus;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a group that does not exist yet starts reading. An existing group always resumes where it
 * left off, whatever its subscribers ask for.
 *
 * <ul>
 *   <li>{@link #EARLIEST}: the oldest message the topic still retains; it only reaches back further
 *       than "now" on a backend with {@link Capabilities#replay()}.
 *   <li>{@link #LATEST}: only messages published after the group was created (every backend).
 *   <li>{@link #timestamp(Instant)}: in each partition (or stream, or queue) of the topic, the
 *       first message whose timestamp is at or after the instant, and everything after it; only on
 *       a backend with {@link Capabilities#replayFromTimestamp()}, and subscribing with it
 *       elsewhere fails with an {@link IllegalArgumentException}. Timestamps are those of {@link
 *       Message#timestampMillis()}, at millisecond precision.
 *   <li>{@link #offset(long)}: in each partition, the message at that offset and everything after
 *       it; only on a backend with {@link Capabilities#replayFromOffset()}.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class StartFrom {
  /** What kind of starting point this is. */
  public enum Kind {
    EARLIEST,
    LATEST,
    TIMESTAMP,
    OFFSET
  }

  /** The oldest message the topic still retains. */
  public static final StartFrom EARLIEST = new StartFrom(Kind.EARLIEST, null, -1);

  /** Only messages published after the group was created. */
  public static final StartFrom LATEST = new StartFrom(Kind.LATEST, null, -1);

  private final Kind kind;
  private final Instant timestamp;
  private final long offset;

  private StartFrom(Kind kind, Instant timestamp, long offset) {
    this.kind = kind;
    this.timestamp = timestamp;
    this.offset = offset;
  }

  /**
   * In each partition of the topic, the message at {@code offset} (or, when retention removed it,
   * the oldest one still there; past the end, the end), and everything after it, as Kafka's "reset
   * to offset" does for every partition. Offsets are those of {@link PublishReceipt#position()}
   * ({@code "<partition>@<offset>"} or {@code "<offset>"}) on a backend with {@link
   * Capabilities#replayFromOffset()}; subscribing with it elsewhere fails with an {@link
   * IllegalArgumentException}.
   */
  public static StartFrom offset(long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative, was " + offset);
    }
    return new StartFrom(Kind.OFFSET, null, offset);
  }

  /**
   * The first message whose timestamp is at or after {@code at} (milliseconds; finer digits are
   * dropped).
   *
   * @throws IllegalArgumentException if {@code at} is not representable in epoch milliseconds (such
   *     as {@link Instant#MAX})
   */
  public static StartFrom timestamp(Instant at) {
    Objects.requireNonNull(at, "at");
    long millis;
    try {
      millis = at.toEpochMilli();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "timestamp must be between "
              + Instant.ofEpochMilli(Long.MIN_VALUE)
              + " and "
              + Instant.ofEpochMilli(Long.MAX_VALUE)
              + " (epoch milliseconds in a long), was "
              + at);
    }
    return new StartFrom(Kind.TIMESTAMP, Instant.ofEpochMilli(millis), -1);
  }

  public Kind kind() {
    return kind;
  }

  /** The instant of a {@link Kind#TIMESTAMP} start; null for the others. */
  public Instant timestamp() {
    return timestamp;
  }

  /** The instant of a {@link Kind#TIMESTAMP} start in epoch milliseconds. */
  public long timestampMillis() {
    if (timestamp == null) {
      throw new IllegalStateException(kind + " has no timestamp");
    }
    return timestamp.toEpochMilli();
  }

  /** The offset of a {@link Kind#OFFSET} start. */
  public long offset() {
    if (kind != Kind.OFFSET) {
      throw new IllegalStateException(kind + " has no offset");
    }
    return offset;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StartFrom s
        && s.kind == kind
        && Objects.equals(s.timestamp, timestamp)
        && s.offset == offset;
  }

  @Override
  public int hashCode() {
    return (kind.hashCode() * 31 + Objects.hashCode(timestamp)) * 31 + Long.hashCode(offset);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case TIMESTAMP -> "TIMESTAMP(" + timestamp + ")";
      case OFFSET -> "OFFSET(" + offset + ")";
      default -> kind.name();
    };
  }
}
