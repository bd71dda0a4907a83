package io.polybus;

import java.util.Objects;

/**
 * Proof that a backend accepted a message by its own durability standard.
 *
 * @param topic the topic the message was published to
 * @param messageId the message's id
 * @param position where the backend stored it, in the backend's own words (for example {@code
 *     "3@1042"} for partition 3, offset 1042), or an empty string when the backend has no such
 *     notion
 */
public record PublishReceipt(String topic, String messageId, String position) {
  public PublishReceipt {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(position, "position");
  }
}
