package io.polybus;

/**
 * Handles one delivery. Called by the subscription's handler threads; one handler instance is
 * called concurrently up to {@link SubscribeOptions#concurrency()} times, so it must be thread-safe
 * (with {@link Ordering#KEY}, never concurrently for the same key).
 *
 * <p>In {@link AckMode#AUTO}, returning acks the delivery and throwing hands it to the retry
 * policy.
 */
@FunctionalInterface
public interface Handler {
  void handle(Delivery delivery) throws Exception;
}
