package io.polybus;

import java.time.Duration;

/**
 * One delivery of a message to a group member.
 *
 * <p>Thread-safe. The settling methods ({@link #ack()}, {@link #retry(Duration)}, {@link
 * #deadLetter(String)}) are idempotent and non-blocking, and the first one called wins: later calls
 * return {@code false} and change nothing. In {@link AckMode#AUTO} the subscription settles the
 * delivery when the handler returns or throws, unless the handler settled it first. Once the
 * subscription has closed and given its unsettled deliveries back to the group, settling them
 * returns {@code false}: the broker will deliver them again.
 */
public interface Delivery {
  Message message();

  String topic();

  String group();

  /**
   * Which delivery attempt this is, 1-based. Counts every time the message was handed to a handler
   * of this group, including deliveries to members that died before settling, so that a message
   * that crashes its consumers still reaches the dead-letter topic after {@link
   * RetryPolicy#maxAttempts()}.
   */
  int attempt();

  /** Settles successfully: the message is not delivered to this group again. */
  boolean ack();

  /**
   * Settles as failed and asks for another attempt after at least {@code delay} (zero allowed). The
   * retry policy's attempt limit still applies: when this was the last allowed attempt, the message
   * is dead-lettered instead, with reason {@code "retry requested after the last attempt"}.
   *
   * @throws IllegalArgumentException if {@code delay} is negative or longer than {@link
   *     RetryPolicy#MAX_DELAY}; the delivery is then left unsettled
   */
  boolean retry(Duration delay);

  /**
   * Settles by sending the message to the dead-letter topic with {@code reason}, without further
   * attempts.
   */
  boolean deadLetter(String reason);

  /** True once any settling method has been called (by the handler or by the subscription). */
  boolean isSettled();
}
