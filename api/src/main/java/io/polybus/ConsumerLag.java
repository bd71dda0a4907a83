package io.polybus;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How far one group is behind on one topic: the messages published to the topic that the group has
 * not yet settled (acked or dead-lettered), including those a member holds in flight and those
 * waiting for a retry. Read it with {@link Polybus#lag(String, String)}.
 *
 * <p>Immutable and thread-safe. Where the backend has partitions, {@link #partitions()} holds each
 * partition's share, keyed by the partition id the backend uses in publish receipts, and the shares
 * add up to {@link #total()}. {@link #oldestAge()} is the age of the oldest unsettled message,
 * where the backend can tell it without reading the message.
 */
public final class ConsumerLag {
  /** How exact a backend's lag figure is; a {@link Capabilities#lagAccuracy() capability}. */
  public enum Accuracy {
    /** The backend reports no lag: {@link Polybus#lag} throws. */
    NONE,
    /**
     * The broker's own figure is an estimate (SQS's approximate counts): it may trail the true
     * count for up to a minute, after which, with the group at rest, it is exact.
     */
    APPROXIMATE,
    /**
     * The figure counts exactly the messages published and not yet settled, as of the broker's
     * record of the group's settles. A backend that records settles in batches (Kafka's offset
     * commits) shows a settle within its commit interval, a few seconds at most.
     */
    EXACT
  }

  private final String topic;
  private final String group;
  private final long total;
  private final Map<String, Long> partitions;
  private final Duration oldestAge;
  private final Accuracy accuracy;
  private final Instant measuredAt;

  private ConsumerLag(
      String topic,
      String group,
      long total,
      Map<String, Long> partitions,
      Duration oldestAge,
      Accuracy accuracy,
      Instant measuredAt) {
    this.topic = topic;
    this.group = group;
    this.total = total;
    this.partitions = partitions;
    this.oldestAge = oldestAge;
    this.accuracy = accuracy;
    this.measuredAt = measuredAt;
  }

  /**
   * A lag figure without partitions.
   *
   * @throws IllegalArgumentException if {@code total} is negative or {@code accuracy} is {@code
   *     NONE}
   */
  public static ConsumerLag of(
      String topic,
      String group,
      long total,
      Duration oldestAge,
      Accuracy accuracy,
      Instant measuredAt) {
    return new ConsumerLag(
        Objects.requireNonNull(topic, "topic"),
        Objects.requireNonNull(group, "group"),
        checkCount(total, "total"),
        Map.of(),
        checkAge(oldestAge),
        checkAccuracy(accuracy),
        Objects.requireNonNull(measuredAt, "measuredAt"));
  }

  /**
   * A lag figure of a partitioned topic: the total is the sum of the partitions' shares.
   *
   * @throws IllegalArgumentException if a share is negative or {@code accuracy} is {@code NONE}
   */
  public static ConsumerLag ofPartitions(
      String topic,
      String group,
      Map<String, Long> partitions,
      Duration oldestAge,
      Accuracy accuracy,
      Instant measuredAt) {
    Objects.requireNonNull(partitions, "partitions");
    Map<String, Long> copy = new LinkedHashMap<>();
    long total = 0;
    for (Map.Entry<String, Long> e : partitions.entrySet()) {
      String p = Objects.requireNonNull(e.getKey(), "partition id");
      long n = checkCount(Objects.requireNonNull(e.getValue(), p), "lag of partition " + p);
      copy.put(p, n);
      total = Math.addExact(total, n);
    }
    return new ConsumerLag(
        Objects.requireNonNull(topic, "topic"),
        Objects.requireNonNull(group, "group"),
        total,
        Collections.unmodifiableMap(copy),
        checkAge(oldestAge),
        checkAccuracy(accuracy),
        Objects.requireNonNull(measuredAt, "measuredAt"));
  }

  private static long checkCount(long n, String what) {
    if (n < 0) {
      throw new IllegalArgumentException(what + " must not be negative, was " + n);
    }
    return n;
  }

  private static Duration checkAge(Duration age) {
    if (age != null && age.isNegative()) {
      // A clock a little ahead on the broker's side: the message is as new as can be.
      return Duration.ZERO;
    }
    return age;
  }

  private static Accuracy checkAccuracy(Accuracy a) {
    Objects.requireNonNull(a, "accuracy");
    if (a == Accuracy.NONE) {
      throw new IllegalArgumentException("a lag figure is EXACT or APPROXIMATE, not NONE");
    }
    return a;
  }

  public String topic() {
    return topic;
  }

  public String group() {
    return group;
  }

  /** Messages published and not yet settled by the group. */
  public long total() {
    return total;
  }

  /** Each partition's share of {@link #total()}, in partition order; empty without partitions. */
  public Map<String, Long> partitions() {
    return partitions;
  }

  /** The age of the oldest unsettled message when the backend knows it; empty when it does not. */
  public Optional<Duration> oldestAge() {
    return Optional.ofNullable(oldestAge);
  }

  public Accuracy accuracy() {
    return accuracy;
  }

  /** When the backend answered. */
  public Instant measuredAt() {
    return measuredAt;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ConsumerLag)) {
      return false;
    }
    ConsumerLag l = (ConsumerLag) o;
    return total == l.total
        && topic.equals(l.topic)
        && group.equals(l.group)
        && partitions.equals(l.partitions)
        && Objects.equals(oldestAge, l.oldestAge)
        && accuracy == l.accuracy
        && measuredAt.equals(l.measuredAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, group, total, partitions, oldestAge, accuracy, measuredAt);
  }

  @Override
  public String toString() {
    return "ConsumerLag{topic="
        + topic
        + ", group="
        + group
        + ", total="
        + total
        + (partitions.isEmpty() ? "" : ", partitions=" + partitions)
        + (oldestAge == null ? "" : ", oldestAge=" + oldestAge)
        + ", "
        + accuracy
        + ", at "
        + measuredAt
        + "}";
  }
}
