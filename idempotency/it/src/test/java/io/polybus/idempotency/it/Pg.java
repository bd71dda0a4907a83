package io.polybus.idempotency.it;

import io.polybus.idempotency.JdbcProcessedStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A schema of one test class's own on the machine's PostgreSQL, dropped afterwards, with a table of
 * side effects: one row per handler run that committed (no unique key, so that a duplicate run
 * shows as a second row instead of being absorbed by the database).
 */
final class Pg implements AutoCloseable {
  final String schema;
  final PGSimpleDataSource dataSource;

  Pg() {
    schema = "idem_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    dataSource = new PGSimpleDataSource();
    dataSource.setUrl(Brokers.JDBC_URL);
    exec("CREATE SCHEMA " + schema);
    exec("CREATE TABLE " + effects() + " (message_id text NOT NULL, note text)");
  }

  String effects() {
    return schema + ".effects";
  }

  String marks() {
    return schema + ".marks";
  }

  JdbcProcessedStore.Builder store() {
    return JdbcProcessedStore.builder(dataSource).table(marks());
  }

  /** Records one side effect of the handler, in the handler's transaction. */
  void effect(Connection c, String messageId, String note) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO " + effects() + " (message_id, note) VALUES (?, ?)")) {
      ps.setString(1, messageId);
      ps.setString(2, note);
      ps.executeUpdate();
    }
  }

  long count(String sql) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  long effectCount() {
    return count("SELECT count(*) FROM " + effects());
  }

  long distinctEffects() {
    return count("SELECT count(DISTINCT message_id) FROM " + effects());
  }

  long effectsOf(String id) {
    return count("SELECT count(*) FROM " + effects() + " WHERE message_id = '" + id + "'");
  }

  long markCount() {
    return count("SELECT count(*) FROM " + marks());
  }

  /** The ids with more than one side effect, with their counts. */
  List<String> duplicatedEffects() {
    List<String> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT message_id, count(*) FROM "
                    + effects()
                    + " GROUP BY message_id HAVING count(*) > 1")) {
      while (rs.next()) {
        out.add(rs.getString(1) + " x" + rs.getLong(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  void exec(String sql) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  @Override
  public void close() {
    exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }
}
