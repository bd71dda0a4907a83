package io.polybus.postgres;

import io.polybus.Instrumentation;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * Opens a Polybus on an application's {@link DataSource} (a connection pool it already has),
 * instead of a {@code postgres://} URI:
 *
 * <pre>{@code
 * try (Polybus bus = PostgresPolybus.connect(hikariDataSource, "schema=orders_bus")) { ... }
 * }</pre>
 *
 * <p>The bus borrows connections from the DataSource for each unit of work and closes them (gives
 * them back) at once, except one it keeps for LISTEN while it has subscriptions; so the pool needs
 * room for {@code pool} (parameter, default 4) plus one. The DataSource belongs to the application:
 * closing the bus never closes it. The connections must reach PostgreSQL with pgjdbc ({@code
 * unwrap(PGConnection.class)} must work, as it does through HikariCP and other pools).
 *
 * <p>The bus is the same as one opened from a URI (the same runtime and rules); it goes through
 * {@link Polybus#connect(PolybusOptions, Instrumentation)}, handing the DataSource to {@link
 * PostgresBackendProvider} under a one-time handle. Thread-safe; stateless apart from handles in
 * transit.
 */
public final class PostgresPolybus {
  private static final Map<String, DataSource> HANDOFF = new ConcurrentHashMap<>();

  private PostgresPolybus() {}

  /**
   * A bus on {@code dataSource}, with the URI parameters of {@code postgres://} given as {@code
   * name=value&...} (may be empty).
   */
  public static Polybus connect(DataSource dataSource, String parameters) {
    return connect(dataSource, parameters, null);
  }

  /** As {@link #connect(DataSource, String)}, with {@code instrumentation} installed (or null). */
  public static Polybus connect(
      DataSource dataSource, String parameters, Instrumentation instrumentation) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(parameters, "parameters");
    String handle = UUID.randomUUID().toString();
    PolybusOptions options =
        PolybusOptions.parse("postgres:" + (parameters.isEmpty() ? "" : "?" + parameters))
            .withNativeSetting(PostgresBackendProvider.HANDLE, handle);
    HANDOFF.put(handle, dataSource);
    try {
      return instrumentation == null
          ? Polybus.connect(options)
          : Polybus.connect(options, instrumentation);
    } finally {
      HANDOFF.remove(handle);
    }
  }

  /** The DataSource handed over under {@code handle}, once. */
  static DataSource take(String handle) {
    return HANDOFF.remove(handle);
  }
}
