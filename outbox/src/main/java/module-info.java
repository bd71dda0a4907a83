/**
 * The Polybus transactional outbox: {@link io.polybus.outbox.Outbox} writes messages in the
 * application's JDBC transaction, {@link io.polybus.outbox.OutboxRelay} forwards the committed ones
 * to any Polybus bus, {@link io.polybus.outbox.OutboxMetrics} reports the relay's lag to Micrometer
 * (optional).
 */
module io.polybus.outbox {
  requires transitive io.polybus.api;
  requires transitive java.sql;
  requires static micrometer.core;

  exports io.polybus.outbox;
}
