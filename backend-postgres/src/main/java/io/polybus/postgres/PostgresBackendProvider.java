package io.polybus.postgres;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGProperty;

/**
 * Serves {@code postgres://} and {@code postgresql://} URIs: Polybus on PostgreSQL (11 or later;
 * tested with 15).
 *
 * <p>URI: {@code
 * postgres://[user[:password]@]host[:5432][,host[:port]...][/database][?param=value&...]} (database
 * {@code postgres} by default). Parameters are declared below and listed in {@code docs/uris.md}.
 * Native settings ({@code polybus.postgres.<name>}) are pgjdbc connection properties, for example
 * {@code sslrootcert}; a name pgjdbc does not know is refused. An application with its own pool
 * uses {@link PostgresPolybus#connect(DataSource, String)} instead.
 *
 * <p>Thread-safe and stateless; instantiated by {@link java.util.ServiceLoader}; connects only in
 * {@link #open}.
 */
public final class PostgresBackendProvider implements BackendProvider {
  static final Parameter<String> SCHEMA =
      Parameter.string(
          "schema",
          "polybus",
          "the schema of the tables; created on first use (a plain identifier)");
  static final Parameter<Integer> POOL =
      Parameter.intValue(
          "pool", 4, 1, 1000, "connections per bus, besides the one LISTEN connection");
  static final Parameter<Duration> PUBLISH_TIMEOUT =
      Parameter.duration(
          "publishTimeout",
          Duration.ofSeconds(30),
          Duration.ofSeconds(1),
          Duration.ofHours(1),
          "bound of a publish: queued, then the insert's statement timeout");
  static final Parameter<Duration> CONNECT_TIMEOUT =
      Parameter.duration(
          "connectTimeout",
          Duration.ofSeconds(10),
          Duration.ofSeconds(1),
          Duration.ofMinutes(10),
          "TCP connect and login bound");
  static final Parameter<Duration> POLL_INTERVAL =
      Parameter.duration(
          "pollInterval",
          Duration.ofMillis(250),
          Duration.ofMillis(1),
          Duration.ofMinutes(1),
          "how often an idle member looks without a notification (due retries, expired leases)");
  static final Parameter<Duration> RETENTION =
      Parameter.duration(
          "retention", Duration.ofDays(7), "delete messages published longer ago; 0 keeps them");
  static final Parameter<Long> MAX_MESSAGES =
      Parameter.longValue(
          "maxMessages", 0, 0, Long.MAX_VALUE, "keep at most N messages per topic; 0: no limit");
  static final Parameter<Duration> RETENTION_CHECK_INTERVAL =
      Parameter.duration(
          "retentionCheckInterval",
          Duration.ofMinutes(1),
          Duration.ofMillis(10),
          Duration.ofDays(1),
          "how often a bus enforces retention");
  static final Parameter<Long> MAX_PAYLOAD =
      Parameter.bytes("maxPayload", 1 << 20, 1, 64L << 20, "the largest payload accepted");
  static final Parameter<Integer> MAX_BATCH =
      Parameter.intValue("maxBatch", 5000, 1, 100_000, "most messages one publish round inserts");
  static final Parameter<String> SSLMODE =
      Parameter.choice(
          "sslmode",
          "prefer",
          "pgjdbc's sslmode",
          "disable",
          "allow",
          "prefer",
          "require",
          "verify-ca",
          "verify-full");
  static final List<Parameter<?>> PARAMETERS =
      List.of(
          SCHEMA,
          POOL,
          PUBLISH_TIMEOUT,
          CONNECT_TIMEOUT,
          POLL_INTERVAL,
          RETENTION,
          MAX_MESSAGES,
          RETENTION_CHECK_INTERVAL,
          MAX_PAYLOAD,
          MAX_BATCH,
          SSLMODE);

  /** The native setting by which {@link PostgresPolybus} hands a DataSource over. */
  static final String HANDLE = "dataSourceHandle";

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,47}");

  @Override
  public List<Parameter<?>> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<String> schemes() {
    return Set.of("postgres", "postgresql");
  }

  @Override
  public String description() {
    return "PostgreSQL";
  }

  @Override
  public Backend open(PolybusOptions options) {
    Map<String, String> nat = new LinkedHashMap<>(options.nativeSettings());
    String handle = nat.remove(HANDLE);
    DataSource ds = null;
    if (handle != null) {
      ds = PostgresPolybus.take(handle);
      if (ds == null) {
        throw new ConfigurationException(
            "native setting '"
                + HANDLE
                + "' names no DataSource handed over; use PostgresPolybus.connect(dataSource, ...)");
      }
    }
    PgSettings s = settings(options, ds != null);
    Properties props = new Properties();
    for (Map.Entry<String, String> e : nat.entrySet()) {
      if (PGProperty.forName(e.getKey()) == null) {
        throw new ConfigurationException(
            "unknown native setting 'polybus."
                + options.scheme()
                + "."
                + e.getKey()
                + "' for '"
                + options.redacted()
                + "': the postgres backend's native settings are pgjdbc connection properties");
      }
      props.setProperty(e.getKey(), e.getValue());
    }
    if (ds != null && !nat.isEmpty()) {
      throw new ConfigurationException(
          "native settings "
              + nat.keySet()
              + " do not apply to a DataSource: configure it instead");
    }
    Connections pool;
    if (ds != null) {
      DataSource source = ds;
      pool = new Connections(source::getConnection, s.pool(), false, s.connectTimeout().toMillis());
    } else {
      if (s.user() != null) {
        props.setProperty("user", s.user());
      }
      if (s.password() != null) {
        props.setProperty("password", s.password());
      }
      props.setProperty("connectTimeout", Long.toString(s.connectTimeout().toSeconds()));
      props.setProperty("loginTimeout", Long.toString(s.connectTimeout().toSeconds()));
      // A statement that hangs on a dead peer without a reset ends after this many seconds.
      props.setProperty("socketTimeout", Long.toString(s.publishTimeout().toSeconds() + 30));
      props.setProperty("tcpKeepAlive", "true");
      props.putIfAbsent("ApplicationName", "polybus");
      String url = s.jdbcUrl();
      pool =
          new Connections(
              () -> DriverManager.getConnection(url, props),
              s.pool(),
              true,
              s.connectTimeout().toMillis());
    }
    try {
      Schema.ensure(pool, s);
    } catch (SQLException | RuntimeException e) {
      pool.close();
      throw PgErrors.map(e, "connecting for '" + options.redacted() + "'", s);
    }
    return new PgBackend(s, pool);
  }

  static PgSettings settings(PolybusOptions options, boolean dataSource) {
    Parameters p = Parameters.of(options, PARAMETERS);
    String schema = p.get(SCHEMA);
    int pool = p.get(POOL);
    Duration publishTimeout = p.get(PUBLISH_TIMEOUT);
    Duration connectTimeout = p.get(CONNECT_TIMEOUT);
    Duration pollInterval = p.get(POLL_INTERVAL);
    Duration retention = p.get(RETENTION);
    long maxMessages = p.get(MAX_MESSAGES);
    Duration check = p.get(RETENTION_CHECK_INTERVAL);
    int maxPayload = (int) (long) p.get(MAX_PAYLOAD);
    int maxBatch = p.get(MAX_BATCH);
    String sslmode = p.get(SSLMODE);
    p.requireAllRead();
    if (!IDENTIFIER.matcher(schema).matches()) {
      throw new ConfigurationException(
          "parameter 'schema' must be a plain lower-case identifier ([a-z_][a-z0-9_]*, at most 48"
              + " characters), in '"
              + options.redacted()
              + "'");
    }
    if (dataSource) {
      if (!options.hosts().isEmpty() || options.user() != null) {
        throw new ConfigurationException(
            "with a DataSource the URI gives parameters only (postgres:?schema=...), got '"
                + options.redacted()
                + "'");
      }
      return new PgSettings(
          null,
          null,
          null,
          "a DataSource",
          schema,
          pool,
          publishTimeout,
          connectTimeout,
          pollInterval,
          retention,
          maxMessages,
          check,
          maxPayload,
          maxBatch);
    }
    StringBuilder hosts = new StringBuilder();
    for (String h : options.hosts()) {
      hosts
          .append(hosts.length() == 0 ? "" : ",")
          .append(h.contains(":") || h.startsWith("[") ? h : h + ":5432");
    }
    if (hosts.length() == 0) {
      hosts.append("localhost:5432");
    }
    String path = options.path();
    String database = path.isEmpty() || path.equals("/") ? "postgres" : path.substring(1);
    if (database.isEmpty() || database.contains("/") || database.contains("?")) {
      throw new ConfigurationException(
          "the path of a postgres URI is the database name (/mydb), got '"
              + path
              + "' in '"
              + options.redacted()
              + "'");
    }
    String encoded = java.net.URLEncoder.encode(database, java.nio.charset.StandardCharsets.UTF_8);
    String url = "jdbc:postgresql://" + hosts + "/" + encoded + "?sslmode=" + sslmode;
    String user = options.user() == null || options.user().isEmpty() ? null : options.user();
    return new PgSettings(
        url,
        user,
        options.password(),
        hosts + "/" + database,
        schema,
        pool,
        publishTimeout,
        connectTimeout,
        pollInterval,
        retention,
        maxMessages,
        check,
        maxPayload,
        maxBatch);
  }
}
