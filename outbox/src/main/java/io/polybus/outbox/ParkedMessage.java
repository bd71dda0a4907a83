package io.polybus.outbox;

import java.time.Instant;
import java.util.Objects;

/**
 * A row the relay will not forward because publishing it failed in a way a retry cannot fix: an
 * immutable value, safe to share. Fix the cause and {@link OutboxRelay#unpark(String) unpark} it,
 * or delete the row.
 *
 * @param messageId the message's id
 * @param topic the topic it was written for
 * @param key its key, or {@code null}
 * @param writtenAt when {@code Outbox.publish} wrote it (the database's clock)
 * @param parkedAt when the relay parked it
 * @param error why: the exception's class and message
 */
public record ParkedMessage(
    String messageId, String topic, String key, Instant writtenAt, Instant parkedAt, String error) {
  public ParkedMessage {
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(writtenAt, "writtenAt");
    Objects.requireNonNull(parkedAt, "parkedAt");
    Objects.requireNonNull(error, "error");
  }
}
