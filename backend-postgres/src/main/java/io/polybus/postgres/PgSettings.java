package io.polybus.postgres;

import java.time.Duration;

/**
 * The parsed configuration of one bus. Immutable. The password is held only to open connections:
 * {@link #toString()} and {@link #where()} never show it.
 *
 * @param jdbcUrl the pgjdbc URL without user or password, or null when a DataSource is used
 * @param where where the database is, for messages: host, port and database, never a secret
 * @param schema the schema holding the tables, a plain lower-case identifier
 * @param retention messages published longer ago are deleted; {@link Duration#ZERO} keeps them
 * @param maxMessages at most this many messages are kept per topic; 0 for no limit
 */
record PgSettings(
    String jdbcUrl,
    String user,
    String password,
    String where,
    String schema,
    int pool,
    Duration publishTimeout,
    Duration connectTimeout,
    Duration pollInterval,
    Duration retention,
    long maxMessages,
    Duration retentionCheckInterval,
    int maxPayloadBytes,
    int maxBatch) {

  /** The schema as a quoted SQL identifier (it is checked to be a plain identifier anyway). */
  String quotedSchema() {
    return "\"" + schema + "\"";
  }

  /** The LISTEN/NOTIFY channel of this schema. */
  String channel() {
    return "polybus." + schema;
  }

  @Override
  public String toString() {
    return "PgSettings[" + where + ", schema=" + schema + "]";
  }
}
