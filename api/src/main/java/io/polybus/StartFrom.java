package io.polybus;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a group that does not exist yet starts reading. An existing group always resumes where it left off, whatever
 * its subscribers ask for.
 *
 * <ul>
 *   <li>{@link #EARLIEST}: the oldest message the topic still retains; it only reaches back further than "now" on a
 *       backend with {@link Capabilities#replay()}.
 *   <li>{@link #LATEST}: only messages published after the group was created (every backend).
 *   <li>{@link #timestamp(Instant)}: in each partition (or stream, or queue) of the topic, the first message whose
 *       timestamp is at or after the instant, and everything after it; only on a backend with
 *       {@link Capabilities#replayFromTimestamp()}, and subscribing with it elsewhere fails with an
 *       {@link IllegalArgumentException}. Timestamps are those of {@link Message#timestampMillis()}, at millisecond
 *       precision.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class StartFrom {
  /** What kind of starting point this is. */
  public enum Kind {
    EARLIEST,
    LATEST,
    TIMESTAMP
  }

  /** The oldest message the topic still retains. */
  public static final StartFrom EARLIEST = new StartFrom(Kind.EARLIEST, null);
  /** Only messages published after the group was created. */
  public static final StartFrom LATEST = new StartFrom(Kind.LATEST, null);

  private final Kind kind;
  private final Instant timestamp;

  private StartFrom(Kind kind, Instant timestamp) {
    this.kind = kind;
    this.timestamp = timestamp;
  }

  /** The first message whose timestamp is at or after {@code at} (milliseconds; finer digits are dropped). */
  public static StartFrom timestamp(Instant at) {
    Objects.requireNonNull(at, "at");
    return new StartFrom(Kind.TIMESTAMP, Instant.ofEpochMilli(at.toEpochMilli()));
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

  @Override
  public boolean equals(Object o) {
    return o instanceof StartFrom s && s.kind == kind && Objects.equals(s.timestamp, timestamp);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + Objects.hashCode(timestamp);
  }

  @Override
  public String toString() {
    return kind == Kind.TIMESTAMP ? "TIMESTAMP(" + timestamp + ")" : kind.name();
  }
}
