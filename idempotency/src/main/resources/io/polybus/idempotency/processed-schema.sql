-- The marks of JdbcProcessedStore (polybus-idempotency), for PostgreSQL 9.5 or later.
-- JdbcProcessedStore runs this on first use (createTable(true), the default), naming the table as configured
-- (polybus_processed by default; every "polybus_processed" below is replaced by that name). To create it
-- yourself (createTable(false)), run it as it is, or with your table name.
-- One row per (group, message id) processed; the primary key is what makes a second mark of the same pair a
-- no-op (INSERT ... ON CONFLICT DO NOTHING) and what a concurrent duplicate waits on (its row lock).
CREATE TABLE IF NOT EXISTS polybus_processed (
  group_name   text        NOT NULL,
  message_id   text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_name, message_id)
);
-- For purgeMarkedBefore: DELETE ... WHERE processed_at < ?
CREATE INDEX IF NOT EXISTS polybus_processed_at_idx ON polybus_processed (processed_at);
