package io.polybus.postgres;

import io.polybus.ConfigurationException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Creates the schema on first use: under a transaction-level advisory lock (so buses opening at
 * once do not race), runs each script of {@link Sql#SCRIPTS} whose version {@code schema_version}
 * has not reached yet, in order, and refuses a schema written by a newer version of the backend.
 * Stateless.
 */
final class Schema {
  private Schema() {}

  /** Version 1's script, bound to {@code s}'s schema. */
  static String script(PgSettings s) {
    return script(s, 1);
  }

  /** The script that brings a schema to {@code version}, bound to {@code s}'s schema. */
  static String script(PgSettings s, int version) {
    String name = Sql.SCRIPTS.get(version - 1);
    try (InputStream in = Schema.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the backend's jar");
      }
      return Sql.bind(new String(in.readAllBytes(), StandardCharsets.UTF_8), s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Brings the schema to {@link Sql#SCHEMA_VERSION}; a no-op when it is there. */
  static void ensure(Connections pool, PgSettings s) throws SQLException {
    pool.transaction(
        c -> {
          try (PreparedStatement lock =
              c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext('polybus.schema'))")) {
            lock.execute();
          }
          int version = version(c, s);
          if (version > Sql.SCHEMA_VERSION) {
            throw new ConfigurationException(
                "schema "
                    + s.schema()
                    + " at "
                    + s.where()
                    + " is at version "
                    + version
                    + ", newer than this backend's "
                    + Sql.SCHEMA_VERSION
                    + ": upgrade polybus-backend-postgres");
          }
          for (int v = version + 1; v <= Sql.SCHEMA_VERSION; v++) {
            try (Statement st = c.createStatement()) {
              st.execute(script(s, v));
            }
          }
          return null;
        });
  }

  private static int version(Connection c, PgSettings s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
      ps.setString(1, s.quotedSchema() + ".schema_version");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getString(1) == null) {
          return 0;
        }
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT coalesce(max(version), 0) FROM " + s.quotedSchema() + ".schema_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
