package io.polybus.spi;

import io.polybus.Ordering;
import io.polybus.StartFrom;
import java.time.Duration;
import java.util.Objects;

/**
 * What a new group member asks of its backend.
 *
 * @param topic the topic, a portable name
 * @param group the group, a portable name
 * @param ordering {@link Ordering#KEY}: the backend must never hand a message to this member while
 *     an earlier message with the same key is unsettled at another member of the group, and must
 *     hand same-key messages to a member in publish order (only asked when the backend declares
 *     {@code orderedByKey}); {@link Ordering#NONE}: no such constraint
 * @param startFrom where the group starts if it is new
 * @param ackTimeout how long a delivery may stay unsettled at a member that shows no sign of life
 *     before it is given to another member; a live member's polls and settlements are its signs of
 *     life
 * @param maxInFlight the most unsettled records the runtime will hold; a backend that prefetches
 *     may use it to size its prefetch (for example AMQP {@code basic.qos})
 */
public record ConsumerSpec(
    String topic,
    String group,
    Ordering ordering,
    StartFrom startFrom,
    Duration ackTimeout,
    int maxInFlight) {
  public ConsumerSpec {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(ordering, "ordering");
    Objects.requireNonNull(startFrom, "startFrom");
    Objects.requireNonNull(ackTimeout, "ackTimeout");
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be positive, was " + maxInFlight);
    }
  }
}
