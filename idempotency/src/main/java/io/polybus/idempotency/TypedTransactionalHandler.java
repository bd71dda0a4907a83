package io.polybus.idempotency;

import io.polybus.Delivery;
import java.sql.Connection;

/**
 * {@link TransactionalHandler} for typed subscriptions: the payload decoded by the subscription's
 * codec, then the same rules; see {@link
 * JdbcProcessedStore#typedTransactional(TypedTransactionalHandler)}.
 *
 * @param <T> the decoded type
 */
@FunctionalInterface
public interface TypedTransactionalHandler<T> {
  void handle(T value, Delivery delivery, Connection connection) throws Exception;
}
