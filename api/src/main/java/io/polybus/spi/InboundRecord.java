package io.polybus.spi;

import io.polybus.Message;
import java.time.Duration;

/**
 * One message leased to a group member, with the primitives to settle it.
 *
 * <p>Thread-safe. The runtime settles each record exactly once, with {@link #ack()} or {@link
 * #release}; the backend must ignore settling calls after its consumer closed. These calls must not
 * block on the network: a backend batches or pipelines them (for example Kafka offset commits,
 * {@code XACK}, {@code DeleteMessageBatch}) and flushes what is pending on {@link
 * BackendConsumer#close()}.
 */
public interface InboundRecord {
  /** The message, with its original id, key, payload, headers and timestamp. */
  Message message();

  /**
   * The message's key as the runtime compares it to keep one key's deliveries in order, or null for
   * a keyless message; it is only hashed and compared with {@code equals}. Records with equal keys
   * must return equal objects; records with different keys should return unequal ones (when they do
   * not, their deliveries are only kept in one order together, never reordered). The default is
   * {@code message().key()}; a backend whose messages are decoded lazily can return its key bytes
   * wrapped instead (see {@link RawKey}), so that a handler that never reads the message costs no
   * decoding.
   */
  default Object orderingKey() {
    return message().key();
  }

  /**
   * The partition this record was read from, as in {@link io.polybus.PublishReceipt#position()}
   * ({@code "<partition>"} of {@code "<partition>@<offset>"}), or null where the backend has no
   * partitions. Tracing reports it.
   */
  default String partition() {
    return null;
  }

  /**
   * How many times this message has been delivered to the group, this delivery included (so at
   * least 1). Counts deliveries to members that died or closed without settling, and attempts noted
   * with {@link #recordAttempts(int)}. The runtime uses it as {@link
   * io.polybus.Delivery#attempt()}; a backend that cannot count exactly must say so in its
   * documentation and never return less than the true count when it can avoid it.
   */
  int deliveryCount();

  /** Done: the message is never delivered to this group again. */
  void ack();

  /**
   * Gives the message back to the group for another delivery after at least {@code delay} (zero: as
   * soon as possible). The next delivery's {@link #deliveryCount()} is this one's plus one. Called
   * with a delay greater than zero only when the backend declares {@link
   * io.polybus.Capabilities#nativeDelayedRetry()}; otherwise the runtime waits itself and retries
   * in place.
   */
  void release(Duration delay);

  /**
   * Notes that the runtime has now made {@code attempts} deliveries of this record to handlers in
   * place (retrying without releasing), so that if this member dies, the next delivery's {@link
   * #deliveryCount()} continues from there. Backends that can store this durably and cheaply (Kafka
   * commit metadata, a log's state file) should; the default keeps nothing, in which case the count
   * after a crash is the broker's own delivery count.
   */
  default void recordAttempts(int attempts) {}

  /**
   * Notes that no handler has started this delivery. The runtime calls it only while closing,
   * before {@link BackendConsumer#close()}, for records it received but had not handed to a handler
   * (queued, or waiting behind an earlier record of their key), and settles those records no
   * further. It only marks: {@code close()} gives the record back together with the others, so that
   * no record overtakes an earlier one of its key. When it does, this delivery must not count: the
   * next {@link #deliveryCount()} is this one's, not one more, so members that close one after
   * another (a rolling restart) never use up the attempts of messages no handler saw.
   *
   * <p>Thread-safe and idempotent; a call after the consumer closed is ignored, like a settling
   * call. A backend whose broker counts every delivery with no way to take one back keeps the
   * default, which does nothing, and declares {@link io.polybus.Capabilities#uncountedGiveBack()}
   * false.
   */
  default void markNotHandled() {}
}
