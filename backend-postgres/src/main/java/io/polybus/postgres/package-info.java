/**
 * The PostgreSQL backend, {@code postgres://} and {@code postgresql://}: every topic's messages in
 * one {@code messages} table (keyed by topic, numbered by {@code seq}), one {@code deliveries} row
 * per message a group has not settled, leased to a member with {@code FOR UPDATE SKIP LOCKED} and a
 * lease expiry, delayed retries as a due time on that row, and consumers woken by {@code
 * LISTEN/NOTIFY}. Ordering by key is "head of key" leasing: a member may take a keyed row only when
 * no earlier row of its key is held elsewhere.
 *
 * <p>Public: {@link io.polybus.postgres.PostgresBackendProvider} for the {@link
 * java.util.ServiceLoader} (use it through {@code Polybus.connect("postgres://host/db")}), and
 * {@link io.polybus.postgres.PostgresPolybus} for applications that already have a {@link
 * javax.sql.DataSource}. The table layout and the SQL script are in {@code
 * docs/backend-postgres.md} and {@code io/polybus/postgres/schema-v1.sql}.
 */
package io.polybus.postgres;
