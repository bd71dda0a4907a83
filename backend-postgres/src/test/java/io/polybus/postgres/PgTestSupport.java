package io.polybus.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/** The shared test server (127.0.0.1:5432, trust auth, database test) and a schema per class. */
final class PgTestSupport {
  static final String HOST = "127.0.0.1:5432";
  static final String JDBC = "jdbc:postgresql://" + HOST + "/test";

  private PgTestSupport() {}

  static String uniqueSchema(String what) {
    return "t_" + what + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  static String uri(String schema, String extra) {
    return "postgres://postgres@"
        + HOST
        + "/test?schema="
        + schema
        + (extra.isEmpty() ? "" : "&" + extra);
  }

  static Connection connect() throws SQLException {
    return DriverManager.getConnection(JDBC, "postgres", "");
  }

  static void dropSchema(String schema) {
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    } catch (SQLException e) {
      throw new IllegalStateException("could not drop schema " + schema, e);
    }
  }
}
