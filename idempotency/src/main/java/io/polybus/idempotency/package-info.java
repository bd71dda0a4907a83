/**
 * The idempotent consumer. Brokers deliver at least once: a lost ack, a member that dies after its
 * work and before its ack, an SQS standard queue's second copy, a producer's retry or a redriven
 * dead letter all hand a group a message it may have processed already. Message ids survive all of
 * these, so a group that remembers the ids it processed can skip the copies.
 *
 * <ul>
 *   <li>{@link io.polybus.idempotency.Idempotent} wraps a handler over a {@link
 *       io.polybus.idempotency.ProcessedStore}: mark after success, skip what is marked, one
 *       handling of an id at a time.
 *   <li>{@link io.polybus.idempotency.InMemoryProcessedStore}: bounded and expiring, per process.
 *   <li>{@link io.polybus.idempotency.JdbcProcessedStore}: a PostgreSQL table shared by processes;
 *       its transactional form commits the mark with the handler's own database work.
 * </ul>
 *
 * See {@code docs/idempotency.md} for what is guaranteed and where it stops.
 */
package io.polybus.idempotency;
