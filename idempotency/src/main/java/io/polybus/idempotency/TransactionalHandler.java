package io.polybus.idempotency;

import io.polybus.Delivery;
import java.sql.Connection;

/**
 * Handles one delivery inside the database transaction that marks it processed; see {@link
 * JdbcProcessedStore#transactional(TransactionalHandler)}.
 *
 * <p>Do the work on {@code connection} and return (commits, then acks), throw or call {@link
 * Delivery#retry} / {@link Delivery#deadLetter} (rolls back). Do not commit, roll back, close or
 * change the auto-commit of the connection: the wrapper owns the transaction. The connection is
 * valid only during the call. Called concurrently like any {@link io.polybus.Handler}, each call
 * with its own connection.
 */
@FunctionalInterface
public interface TransactionalHandler {
  void handle(Delivery delivery, Connection connection) throws Exception;
}
