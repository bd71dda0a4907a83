/**
 * The transactional outbox. {@link io.polybus.outbox.Outbox#publish Outbox.publish(connection,
 * topic, message)} writes a message into an outbox table in the caller's transaction: a rollback
 * publishes nothing, a commit publishes exactly what was written. {@link
 * io.polybus.outbox.OutboxRelay} forwards committed rows to any Polybus bus, in commit order per
 * key, deleting a row only after the broker confirmed it; several relays may run on one table.
 * {@code docs/outbox.md} has the design and the exact guarantees.
 */
package io.polybus.outbox;
