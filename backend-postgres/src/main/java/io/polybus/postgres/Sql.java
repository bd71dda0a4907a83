package io.polybus.postgres;

import java.util.List;

/**
 * Every statement the backend runs, in one place, as templates over {@code ${schema}} (the quoted
 * schema) and, for the script, {@code ${channel}}. docs/backend-postgres.md quotes the ones another
 * client needs to know, and PostgresDocsTest checks that the docs quote them exactly. User strings
 * (topics, groups, ids, keys, headers) only ever travel as bind parameters; the schema is checked
 * to be a plain identifier and quoted.
 *
 * <p>Constants; thread-safe.
 */
final class Sql {
  private Sql() {}

  /**
   * The schema scripts, resources of this package: {@code SCRIPTS[v - 1]} brings a schema from
   * version v - 1 to v, each applied once per schema, in order.
   */
  static final List<String> SCRIPTS = List.of("schema-v1.sql", "schema-v2.sql");

  static final int SCHEMA_VERSION = SCRIPTS.size();

  /**
   * Delayed publishes of a round, due by the server's clock. Parameters: topic, delay ms, id, key,
   * payload, headers (JSON text), timestamp, as arrays of equal length.
   */
  static final String SCHEDULE =
      "INSERT INTO ${schema}.scheduled (topic, due_at, id, msg_key, payload, headers, ts)"
          + " SELECT t, now() + d * interval '1 millisecond', i, k, p, h::jsonb, ts"
          + " FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::bytea[], ?::text[],"
          + " ?::bigint[]) WITH ORDINALITY AS u(t, d, i, k, p, h, ts, n) ORDER BY n";

  /**
   * Publishes a topic's due scheduled messages, oldest due first: deleted from {@code scheduled}
   * and inserted into {@code messages} in one statement (rows another mover holds are skipped), so
   * each is published exactly once. Parameters: topic, max.
   */
  static final String MOVE_DUE =
      "WITH due AS (DELETE FROM ${schema}.scheduled WHERE sid IN (SELECT sid FROM ${schema}.scheduled"
          + " WHERE topic = ? AND due_at <= now() ORDER BY due_at, sid LIMIT ? FOR UPDATE SKIP LOCKED)"
          + " RETURNING sid, topic, due_at, id, msg_key, payload, headers, ts)"
          + " INSERT INTO ${schema}.messages (topic, id, msg_key, payload, headers, ts)"
          + " SELECT topic, id, msg_key, payload, headers, ts FROM due ORDER BY due_at, sid";

  /**
   * A publish round: every queued message in one statement, numbered in array order. Parameters:
   * topic, id, key, payload, headers (JSON text), timestamp, as arrays of equal length.
   */
  static final String PUBLISH =
      "INSERT INTO ${schema}.messages (topic, id, msg_key, payload, headers, ts)"
          + " SELECT t, i, k, p, h::jsonb, ts"
          + " FROM unnest(?::text[], ?::text[], ?::text[], ?::bytea[], ?::text[], ?::bigint[])"
          + " WITH ORDINALITY AS u(t, i, k, p, h, ts, n) ORDER BY n"
          + " RETURNING seq";

  /**
   * Takes the topic's lock exclusively: no publish of the topic is between its insert and commit.
   */
  static final String LOCK_TOPIC = "SELECT pg_advisory_xact_lock(hashtext(?), hashtext(?))";

  static final String FIND_GROUP = "SELECT gid FROM ${schema}.groups WHERE topic = ? AND grp = ?";

  static final String CREATE_GROUP =
      "INSERT INTO ${schema}.groups (topic, grp) VALUES (?, ?)"
          + " ON CONFLICT (topic, grp) DO NOTHING RETURNING gid";

  /** A new group from an offset (EARLIEST is offset 0): the retained messages from it on. */
  static final String BACKFILL_FROM_SEQ =
      "INSERT INTO ${schema}.deliveries (gid, seq, msg_key)"
          + " SELECT ?, seq, msg_key FROM ${schema}.messages WHERE topic = ? AND seq >= ?";

  /** A new group from a timestamp: from the first message stamped at or after it, everything. */
  static final String BACKFILL_FROM_TS =
      "INSERT INTO ${schema}.deliveries (gid, seq, msg_key)"
          + " SELECT ?, seq, msg_key FROM ${schema}.messages WHERE topic = ? AND seq >="
          + " (SELECT min(seq) FROM ${schema}.messages WHERE topic = ? AND ts >= ?)";

  /**
   * Leases up to {@code max} available rows of a group to a member, oldest first, in one statement;
   * rows other members are leasing at this moment are skipped, not waited for. Parameters: gid, the
   * seq to start after (the member's cursor, or 0 for a full scan), max, owner, lease in ms, gid.
   */
  static final String LEASE =
      "WITH c AS (SELECT seq FROM ${schema}.deliveries"
          + " WHERE gid = ? AND seq > ? AND visible_at <= now()"
          + " ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)"
          + " UPDATE ${schema}.deliveries d SET owner = ?,"
          + " visible_at = now() + ? * interval '1 millisecond', attempts = d.attempts + 1"
          + " FROM c JOIN ${schema}.messages m ON m.seq = c.seq"
          + " WHERE d.gid = ? AND d.seq = c.seq"
          + " RETURNING d.seq, d.attempts, m.id, m.msg_key, m.payload, m.headers, m.ts";

  /**
   * {@link #LEASE} under ordering by key: a keyed row only when it is the head of its key (no
   * earlier row of the key is unsettled, unless this member holds it) and no later row of its key
   * is leased to another member (a concurrent publisher's row may have a lower seq but a later
   * commit). Parameters: gid, cursor, owner, owner, max, owner, lease in ms, gid.
   */
  static final String LEASE_BY_KEY =
      "WITH c AS (SELECT seq FROM ${schema}.deliveries d"
          + " WHERE gid = ? AND seq > ? AND visible_at <= now() AND (msg_key IS NULL OR ("
          + "NOT EXISTS (SELECT 1 FROM ${schema}.deliveries e WHERE e.gid = d.gid"
          + " AND e.msg_key = d.msg_key AND e.seq < d.seq AND e.owner IS DISTINCT FROM ?)"
          + " AND NOT EXISTS (SELECT 1 FROM ${schema}.deliveries e WHERE e.gid = d.gid"
          + " AND e.msg_key = d.msg_key AND e.seq > d.seq AND e.owner <> ? AND e.visible_at > now())))"
          + " ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)"
          + " UPDATE ${schema}.deliveries d SET owner = ?,"
          + " visible_at = now() + ? * interval '1 millisecond', attempts = d.attempts + 1"
          + " FROM c JOIN ${schema}.messages m ON m.seq = c.seq"
          + " WHERE d.gid = ? AND d.seq = c.seq"
          + " RETURNING d.seq, d.attempts, m.id, m.msg_key, m.payload, m.headers, m.ts";

  /**
   * Acks: the rows go, if this member still holds them. A member whose lease lapsed and was taken
   * over must not delete the row another member is handling (the head of its key: deleting it would
   * let the key's next row go to a third member meanwhile); the new holder acks it. Parameters:
   * gid, seqs, owner.
   */
  static final String ACK =
      "DELETE FROM ${schema}.deliveries WHERE gid = ? AND seq = ANY(?) AND owner = ?";

  /**
   * Releases (retries and give-backs): available again after each row's delay, its attempt count
   * lowered by {@code uncount} (a give-back no handler saw). Only rows this member still holds.
   * Parameters: seqs, delays in ms, uncounts, gid, owner.
   */
  static final String RELEASE =
      "UPDATE ${schema}.deliveries d SET owner = NULL,"
          + " visible_at = now() + r.delay_ms * interval '1 millisecond',"
          + " attempts = greatest(d.attempts - r.uncount, 0)"
          + " FROM unnest(?::bigint[], ?::bigint[], ?::int[]) AS r(seq, delay_ms, uncount)"
          + " WHERE d.gid = ? AND d.seq = r.seq AND d.owner = ?";

  /** In-place attempts noted by the runtime. Parameters: seqs, attempts, gid, owner. */
  static final String RECORD_ATTEMPTS =
      "UPDATE ${schema}.deliveries d SET attempts = r.attempts"
          + " FROM unnest(?::bigint[], ?::int[]) AS r(seq, attempts)"
          + " WHERE d.gid = ? AND d.seq = r.seq AND d.owner = ?";

  /** The heartbeat: a live member's leases extended. Parameters: lease in ms, gid, seqs, owner. */
  static final String EXTEND =
      "UPDATE ${schema}.deliveries SET visible_at = now() + ? * interval '1 millisecond'"
          + " WHERE gid = ? AND seq = ANY(?) AND owner = ?";

  /** Lag: the group's unsettled rows and the age of the oldest. Parameter: gid. */
  static final String LAG =
      "SELECT count(*), (extract(epoch FROM now() - min(m.published_at)) * 1000)::bigint"
          + " FROM ${schema}.deliveries d JOIN ${schema}.messages m ON m.seq = d.seq"
          + " WHERE d.gid = ?";

  /** Age retention, 10,000 messages a statement, their delivery rows with them. Parameter: ms. */
  static final String RETAIN_AGE =
      "WITH gone AS (DELETE FROM ${schema}.messages WHERE seq IN (SELECT seq FROM ${schema}.messages"
          + " WHERE published_at < now() - ? * interval '1 millisecond' LIMIT 10000) RETURNING seq),"
          + " d AS (DELETE FROM ${schema}.deliveries WHERE seq IN (SELECT seq FROM gone))"
          + " SELECT count(*) FROM gone";

  /** The topics that have messages: a skip scan of the (topic, seq) index. */
  static final String TOPICS =
      "WITH RECURSIVE t AS (SELECT min(topic) AS topic FROM ${schema}.messages UNION ALL"
          + " SELECT (SELECT min(topic) FROM ${schema}.messages WHERE topic > t.topic)"
          + " FROM t WHERE t.topic IS NOT NULL) SELECT topic FROM t WHERE topic IS NOT NULL";

  /** Count retention of one topic: all but the newest N. Parameters: topic, N, topic. */
  static final String RETAIN_COUNT =
      "WITH cut AS (SELECT seq FROM ${schema}.messages WHERE topic = ? ORDER BY seq DESC"
          + " OFFSET ? LIMIT 1),"
          + " gone AS (DELETE FROM ${schema}.messages WHERE topic = ? AND seq <= (SELECT seq FROM cut)"
          + " RETURNING seq),"
          + " d AS (DELETE FROM ${schema}.deliveries WHERE seq IN (SELECT seq FROM gone))"
          + " SELECT count(*) FROM gone";

  /**
   * Deleting a topic the runtime no longer needs (a bus's reply topic): its groups' delivery rows,
   * its groups, its messages. Run in one transaction under the topic's exclusive lock. Parameter:
   * topic.
   */
  static final String DELETE_TOPIC_DELIVERIES =
      "DELETE FROM ${schema}.deliveries"
          + " WHERE gid IN (SELECT gid FROM ${schema}.groups WHERE topic = ?)";

  static final String DELETE_TOPIC_GROUPS = "DELETE FROM ${schema}.groups WHERE topic = ?";

  static final String DELETE_TOPIC_MESSAGES = "DELETE FROM ${schema}.messages WHERE topic = ?";

  static final String DELETE_TOPIC_SCHEDULED = "DELETE FROM ${schema}.scheduled WHERE topic = ?";

  /** One bus at a time enforces retention on a schema. */
  static final String TRY_RETENTION_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext(?), 0)";

  static String bind(String template, PgSettings s) {
    return template.replace("${schema}", s.quotedSchema()).replace("${channel}", s.channel());
  }
}
