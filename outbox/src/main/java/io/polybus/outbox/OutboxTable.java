package io.polybus.outbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * One outbox table: its checked name, its SQL and the advisory lock numbers derived from it. Not
 * API. Immutable and thread-safe.
 *
 * <h2>Advisory locks</h2>
 *
 * PostgreSQL's two-key form {@code pg_advisory_xact_lock(int4 classid, int4 objid)}, so that the
 * outbox never meets the application's own one-key ({@code bigint}) locks:
 *
 * <pre>
 *   classid = hash(table) &amp; ~3 | 0   writer: objid = hash(topic, key)   (held until the writer's transaction ends)
 *   classid = hash(table) &amp; ~3 | 1   relay:  objid = shard (0..31)      (held until the relay's transaction ends)
 *   classid = hash(table) &amp; ~3 | 2   schema: objid = 0                  (while the script runs)
 * </pre>
 *
 * Two keys whose hashes collide only wait for each other; nothing depends on the hash being unique.
 */
final class OutboxTable {
  /** The table name in the script, replaced by the configured one. */
  static final String SCRIPT_TABLE = "polybus_outbox";

  static final String DEFAULT_TABLE = "polybus_outbox";

  /** Rows are spread over this many shards; also the most relays that can work at once. */
  static final int SHARDS = 32;

  private static final String SCRIPT = "outbox-postgresql.sql";
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  final String name;
  final int writerClass;
  final int relayClass;
  final int schemaClass;

  final String insertSql;
  final String lockKeySql = "SELECT pg_advisory_xact_lock(?, ?)";
  final String lockKeysSql =
      "SELECT count(pg_advisory_xact_lock(?, k)) FROM unnest(?::integer[]) AS u(k)";
  final String tryLockShardSql = "SELECT pg_try_advisory_xact_lock(?, ?)";
  final String shardsWithWorkSql;
  final String selectShardSql;
  final String deleteSql;
  final String parkSql;
  final String lagSql;
  final String parkedSql;
  final String unparkSql;

  OutboxTable(String table) {
    this.name = check(table);
    int base = mix(name.toLowerCase(java.util.Locale.ROOT).hashCode()) & ~3;
    this.writerClass = base;
    this.relayClass = base | 1;
    this.schemaClass = base | 2;
    insertSql =
        "INSERT INTO "
            + name
            + " (shard, topic, message_id, msg_key, header_names, header_values, payload,"
            + " message_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    // One statement that probes each shard's partial index once: which shards have work.
    shardsWithWorkSql =
        "SELECT s FROM generate_series(0, "
            + (SHARDS - 1)
            + ") AS s WHERE EXISTS (SELECT 1 FROM "
            + name
            + " t WHERE t.shard = s AND t.parked_at IS NULL)";
    selectShardSql =
        "SELECT id, topic, message_id, msg_key, header_names, header_values, payload, message_ts"
            + " FROM "
            + name
            + " WHERE shard = ? AND parked_at IS NULL ORDER BY id LIMIT ?";
    deleteSql = "DELETE FROM " + name + " WHERE id = ANY (?)";
    parkSql = "UPDATE " + name + " SET parked_at = clock_timestamp(), last_error = ? WHERE id = ?";
    lagSql =
        "SELECT count(*) FILTER (WHERE parked_at IS NULL),"
            + " count(*) FILTER (WHERE parked_at IS NOT NULL),"
            + " min(created_at) FILTER (WHERE parked_at IS NULL), clock_timestamp() FROM "
            + name;
    parkedSql =
        "SELECT message_id, topic, msg_key, created_at, parked_at, last_error FROM "
            + name
            + " WHERE parked_at IS NOT NULL ORDER BY id LIMIT ?";
    unparkSql =
        "UPDATE "
            + name
            + " SET parked_at = NULL, last_error = NULL WHERE message_id = ? AND parked_at IS NOT"
            + " NULL";
  }

  /** The schema script for {@code table}. */
  static String script(String table) {
    String checked = check(table);
    String bare = checked.substring(checked.indexOf('.') + 1);
    String script;
    try (InputStream in = OutboxTable.class.getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IllegalStateException(SCRIPT + " is missing from polybus-outbox's jar");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + SCRIPT, e);
    }
    // The index name first: it contains the table name, and an index name cannot be qualified.
    return script
        .replace(SCRIPT_TABLE + "_pending_idx", bare + "_pending_idx")
        .replace(SCRIPT_TABLE, checked);
  }

  /**
   * Runs the script in one transaction, under an advisory lock: two processes creating the same
   * table at once would otherwise collide in PostgreSQL's catalog (a unique violation on {@code
   * pg_type}) even with {@code IF NOT EXISTS}.
   */
  void create(DataSource dataSource) {
    String script = script(name);
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?, 0)");
          Statement s = c.createStatement()) {
        lock.setInt(1, schemaClass);
        lock.execute();
        for (String statement : statements(script)) {
          s.execute(statement);
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot create the outbox table " + name + ": " + e.getMessage(), e);
    }
  }

  /** The script's statements: comments removed, split at the semicolons that end a line. */
  private static java.util.List<String> statements(String script) {
    StringBuilder sql = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("--") || trimmed.isEmpty()) {
        continue;
      }
      int comment = line.indexOf(" -- ");
      sql.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String part : sql.toString().split(";\\s*\n")) {
      if (!part.isBlank()) {
        out.add(part.strip());
      }
    }
    return out;
  }

  static String check(String table) {
    java.util.Objects.requireNonNull(table, "table");
    String[] parts = table.split("\\.", -1);
    if (parts.length > 2
        || !IDENTIFIER.matcher(parts[0]).matches()
        || (parts.length == 2 && !IDENTIFIER.matcher(parts[1]).matches())) {
      throw new IllegalArgumentException(
          "table must be [schema.]name, each an unquoted SQL identifier of 1 to 63 characters"
              + " [A-Za-z0-9_] not starting with a digit, was '"
              + table
              + "'");
    }
    return table;
  }

  /** The shard of a message: by (topic, key), or by (topic, id) when it has no key. */
  static int shard(String topic, String key, String messageId) {
    return Math.floorMod(hash(topic, key != null ? key : messageId), SHARDS);
  }

  /**
   * A hash of (topic, key) that is the same in every JVM (String.hashCode is specified by the
   * language), mixed so that similar keys spread over the shards.
   */
  static int hash(String topic, String key) {
    return mix(topic.hashCode() * 31 + 0x9E3779B9 ^ key.hashCode());
  }

  /** The MurmurHash3 finalizer. */
  private static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }
}
