/**
 * The Polybus idempotent consumer: handler wrappers that acknowledge, without calling the handler
 * again, a message id their group already processed.
 *
 * <p>{@code io.polybus.idempotency} is the whole API: {@link io.polybus.idempotency.Idempotent}
 * wraps handlers over any {@link io.polybus.idempotency.ProcessedStore}; {@link
 * io.polybus.idempotency.JdbcProcessedStore} also runs a handler's database work in the transaction
 * that records the mark.
 */
module io.polybus.idempotency {
  requires transitive io.polybus.api;
  requires transitive java.sql;

  exports io.polybus.idempotency;
}
