package io.polybus.outbox;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A schema of one test class's own on the machine's PostgreSQL (127.0.0.1:5432, database {@code
 * test}, trust authentication), with a HikariCP pool, dropped on close.
 */
final class Pg implements AutoCloseable {
  static final String JDBC_URL = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

  final String schema;
  final HikariDataSource dataSource;

  Pg() {
    schema = "outbox_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    dataSource = pool(8);
    exec("CREATE SCHEMA " + schema);
  }

  HikariDataSource pool(int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(JDBC_URL);
    config.setMaximumPoolSize(size);
    config.setPoolName(schema + "-" + UUID.randomUUID().toString().substring(0, 4));
    return new HikariDataSource(config);
  }

  /** A table name in this schema. */
  String table(String name) {
    return schema + "." + name;
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

  void exec(String sql) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /** Runs {@code work} in one transaction and commits it. */
  void inTransaction(SqlWork work) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        work.run(c);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  interface SqlWork {
    void run(Connection c) throws SQLException;
  }

  @Override
  public void close() {
    exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    dataSource.close();
  }
}
