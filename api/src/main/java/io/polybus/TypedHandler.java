package io.polybus;

/**
 * Handles one delivery whose payload was decoded by a {@link Codec}. Same threading and settling
 * rules as {@link Handler}.
 *
 * @param <T> the decoded type
 */
@FunctionalInterface
public interface TypedHandler<T> {
  void handle(T value, Delivery delivery) throws Exception;
}
