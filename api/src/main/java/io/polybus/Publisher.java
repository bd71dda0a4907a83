package io.polybus;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes messages. Thread-safe: share one instance across the application.
 *
 * <p>Arguments are checked before anything is sent: a {@code null}, an invalid topic name or a
 * closed bus throws at once ({@link NullPointerException}, {@link IllegalArgumentException}, {@link
 * IllegalStateException}); a message larger than {@link Capabilities#maxPayloadBytes()} or with
 * more than {@link Capabilities#maxHeaders()} headers throws {@link PayloadTooLargeException}.
 * Failures of the backend arrive through the returned future as a {@link PolybusException}.
 */
public interface Publisher {
  /**
   * Publishes one message. The future completes when the backend accepted the message by its own
   * durability standard (for a broker: the broker confirmed it).
   */
  CompletableFuture<PublishReceipt> publish(String topic, Message message);

  /**
   * Publishes several messages to one topic. Every message is checked before any is sent, so an
   * invalid one fails the whole call with nothing published. Receipts are in the order of {@code
   * messages}.
   */
  CompletableFuture<List<PublishReceipt>> publishAll(String topic, List<Message> messages);

  /**
   * Publishes and waits for the confirmation.
   *
   * @throws PolybusException when the backend failed or did not confirm within its publish timeout
   */
  PublishReceipt publishAndWait(String topic, Message message);

  /** Publishes several messages and waits for all confirmations. */
  List<PublishReceipt> publishAllAndWait(String topic, List<Message> messages);
}
