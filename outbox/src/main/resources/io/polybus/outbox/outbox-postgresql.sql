-- The outbox table of polybus-outbox, for PostgreSQL 11 or later.
--
-- Outbox.builder().createTable(dataSource) and OutboxRelay.builder(...).createTable(true) run this script on first
-- use, in one transaction, naming the table as configured: every "polybus_outbox" below is replaced by that
-- ([schema.]name) and the index names by <name>_pending_idx. To create it yourself, run it as it is, or with your
-- table name (Outbox.schemaScript("my_schema.my_outbox") prints it). Every statement is IF NOT EXISTS, so running
-- it again is harmless.
--
-- One row per message written by Outbox.publish and not yet confirmed by the broker. The relay deletes a row in
-- the transaction in which it forwarded it, after the broker confirmed it; a row it can never publish is parked
-- (parked_at and last_error set) and stays until someone unparks or deletes it.
CREATE TABLE IF NOT EXISTS polybus_outbox (
  -- Order of the rows of one (topic, key): the writer takes a transaction-scoped advisory lock on (topic, key)
  -- before it draws this value, so a later id of the same key always belongs to a transaction that committed
  -- later. Across keys the ids say nothing about commit order, and nothing relies on it.
  id            bigserial   PRIMARY KEY,
  -- 0..31, from a hash of (topic, key) (of (topic, message id) for a message without a key). A relay forwards a
  -- shard only while it holds that shard's advisory lock, so one relay at a time sends the rows of a key.
  shard         smallint    NOT NULL,
  topic         text        NOT NULL,
  message_id    text        NOT NULL,
  msg_key       text,
  -- The headers in insertion order, names and values at the same index (trace context headers included).
  header_names  text[]      NOT NULL,
  header_values text[]      NOT NULL,
  payload       bytea       NOT NULL,
  -- Message.timestampMillis(): the relay publishes the message with it.
  message_ts    bigint      NOT NULL,
  -- When the row was written (the clock at the INSERT, not the transaction's start): the age in the lag.
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- Set when the relay gave up on the row (a non-transient failure: unknown topic, too large for the backend, a
  -- row that is not a valid message); such a row is no longer forwarded and does not hold back its key.
  parked_at     timestamptz,
  last_error    text
);
-- What the relay reads: the pending rows of one shard in id order.
CREATE INDEX IF NOT EXISTS polybus_outbox_pending_idx ON polybus_outbox (shard, id) WHERE parked_at IS NULL;
