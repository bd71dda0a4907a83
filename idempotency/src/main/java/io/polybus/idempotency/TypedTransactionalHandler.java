package io.polybus.idempotency;

import io.polybus.Delivery;
import java.sql.Connection;

/**
 * {@link TransactionalHandler} for typed subscriptions: the payload decoded by the subscription's
 * codec, then the same rules; see {@link
 * JdbcProcessedStore#typedTransactional(TypedTransactionalHandler)}. Called concurrently like any
 * {@link io.polybus.TypedHandler}, each call with its own connection, valid only during the call.
 *
 * @param <T> the decoded type
 */
@FunctionalInterface
public interface TypedTransactionalHandler<T> {
  void handle(T value, Delivery delivery, Connection connection) throws Exception;
}
