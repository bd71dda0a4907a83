package io.polybus;

import java.util.Objects;

/**
 * Proof that a backend accepted a message by its own durability standard.
 *
 * <p>A receipt with {@code spooled} true comes from a store-and-forward spool ({@code
 * polybus-spool}) that could not give the message to the broker now (the broker was unreachable,
 * timed out or pushed back, or earlier messages of the same key were still waiting): it promises
 * that the message is durable in the local spool directory and will be forwarded to {@code topic}
 * later, with the same id, key, headers and timestamp, after the earlier spooled messages of its
 * key. It does not promise that the broker has it yet, so its {@code position} is empty.
 *
 * @param topic the topic the message was published to
 * @param messageId the message's id
 * @param position where the backend stored it, in the backend's own words (for example {@code
 *     "3@1042"} for partition 3, offset 1042), or an empty string when the backend has no such
 *     notion or the message was spooled
 * @param spooled true when the message was appended to a local spool to be forwarded later, false
 *     when the backend itself confirmed it
 */
public record PublishReceipt(String topic, String messageId, String position, boolean spooled) {
  public PublishReceipt {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(position, "position");
  }

  /** A receipt of a message the backend itself confirmed (not spooled). */
  public PublishReceipt(String topic, String messageId, String position) {
    this(topic, messageId, position, false);
  }
}
