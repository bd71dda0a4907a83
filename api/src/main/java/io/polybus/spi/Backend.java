package io.polybus.spi;

import io.polybus.Capabilities;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One open connection to a broker, seen from the shared runtime. This is what a backend author
 * implements (with {@link BackendConsumer} and {@link InboundRecord}); everything users see
 * (retries, dead letters, ordering, the in-flight bound, draining) is done by the runtime on top of
 * these primitives, identically for every backend.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>Thread-safe: every method may be called from any thread, concurrently.
 *   <li>Names given to the backend are already validated portable names (see {@link
 *       io.polybus.Polybus}); a broker with other naming rules maps them deterministically and
 *       documents the mapping.
 *   <li>Messages given to {@link #publish} are already checked against {@link #capabilities()}
 *       limits.
 *   <li>A group, once created by {@link #ensureGroup} or {@link #subscribe}, receives every message
 *       published to its topic afterwards, whether or not a member is connected, until the
 *       backend's own retention says otherwise (documented by the backend). Each group receives
 *       every message; within a group, each message is delivered to one member at a time.
 *   <li>Failures are reported as {@link io.polybus.PolybusException}s: transient for connectivity
 *       and timeouts, non-transient for configuration, authentication and rejected data.
 * </ul>
 */
public interface Backend extends AutoCloseable {
  /** What this backend guarantees; constant for the backend's lifetime. */
  Capabilities capabilities();

  /**
   * Appends messages to a topic, in order. The future completes when the broker accepted all of
   * them by its durability standard, with one receipt per message in the same order, or fails with
   * a {@link io.polybus.PolybusException}. Must not block the caller on network round trips, and
   * must complete (successfully or not) within a bounded, documented time.
   */
  CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages);

  /**
   * Makes sure {@code group} exists on {@code topic}, so that it keeps every message published from
   * now on even while no member is connected. A new group starts at {@code startFrom}; an existing
   * group is left as it is. Idempotent. The runtime calls it for the dead-letter group before
   * publishing the first dead letter of a subscription.
   */
  void ensureGroup(String topic, String group, StartFrom startFrom);

  /**
   * Joins the group described by {@code spec} as a new member (creating the group as {@link
   * #ensureGroup} does). The returned consumer is owned by one runtime subscription and closed by
   * it.
   */
  BackendConsumer subscribe(ConsumerSpec spec);

  /**
   * Publishes {@code deadLetter} to {@code deadLetterTopic} and then acks {@code record}. A backend
   * that can do both in one atomic step overrides this. The returned future fails, and the record
   * stays unacked, when the publish fails.
   */
  default CompletableFuture<Void> deadLetter(
      InboundRecord record, String deadLetterTopic, Message deadLetter) {
    return publish(deadLetterTopic, List.of(deadLetter)).thenAccept(receipts -> record.ack());
  }

  /**
   * How far {@code group} is behind on {@code topic}, read from the broker's own bookkeeping (never
   * by consuming). Implement it when {@link Capabilities#lagAccuracy()} is not {@code NONE}; the
   * runtime has checked the names. Called on the caller's thread; may block for one round trip.
   */
  default io.polybus.ConsumerLag lag(String topic, String group) {
    throw new UnsupportedOperationException("this backend reports no consumer lag");
  }

  /**
   * Deletes {@code topic}, its groups and what they hold, for a topic the runtime made for itself
   * and no longer needs (a bus's reply topic, at close). Returns false when this backend leaves
   * topics on the broker (the default); the backend's docs then say how such topics are cleaned up.
   * Called after every consumer of the topic was closed; may block for one round trip; must not
   * throw for a topic that is already gone.
   */
  default boolean deleteTopic(String topic) {
    return false;
  }

  /** A round trip to the broker; never throws. */
  Health health();

  /** Releases every connection and thread. Called once, after every consumer was closed. */
  @Override
  void close();
}
