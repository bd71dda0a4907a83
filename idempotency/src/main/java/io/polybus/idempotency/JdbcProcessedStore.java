package io.polybus.idempotency;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.TypedHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * A {@link ProcessedStore} in a PostgreSQL table, reached through any {@link DataSource} (pooled or
 * not), shared by every process that uses the same table. It is also the way to make the mark and
 * the handler's own database work one transaction: {@link #transactional(TransactionalHandler)}.
 *
 * <h2>Schema</h2>
 *
 * One table, {@code polybus_processed} unless {@link Builder#table(String)} names another
 * (optionally schema-qualified): {@code (group_name text, message_id text, processed_at timestamptz
 * default now(), primary key (group_name, message_id))} plus an index on {@code processed_at}. The
 * script is {@code io/polybus/idempotency/processed-schema.sql} in this jar; {@link #build} runs it
 * ({@code CREATE ... IF NOT EXISTS}) unless {@link Builder#createTable(boolean)
 * createTable(false)}. The SQL is PostgreSQL's ({@code ON CONFLICT DO NOTHING}, {@code
 * lock_timeout}).
 *
 * <h2>The transactional form</h2>
 *
 * For each delivery, on one connection in one transaction:
 *
 * <ol>
 *   <li>{@code INSERT} the mark {@code ON CONFLICT DO NOTHING}. If another transaction holds an
 *       uncommitted mark of the same pair (a duplicate being handled right now, in this process or
 *       another), the insert waits on its row lock until that transaction ends, at most {@link
 *       Builder#lockTimeout(Duration) lockTimeout} (default 10 s). No row inserted: the message was
 *       processed and committed already, so the transaction is rolled back and the delivery acked
 *       without calling the handler. The wait ran out: rolled back and settled with {@code
 *       retry(busyRetryDelay)} (default 1 s), which counts an attempt.
 *   <li>Call the handler with the delivery and the connection; it does its own work there.
 *   <li>Handler returned (or called {@code ack()}, which only notes the intent): {@code COMMIT},
 *       then ack the delivery. The mark and the work are committed together or not at all. A crash
 *       after the commit and before the ack leaves the mark, and the redelivery is acked without
 *       the handler. A commit whose outcome is unknown (connection lost) is reported as a failure
 *       and retried: if it did commit, the retry finds the mark.
 *   <li>Handler threw, or called {@code retry} / {@code deadLetter} (passed on at once): {@code
 *       ROLLBACK}. Neither the mark nor the work remains; the message is retried (or dead-lettered)
 *       by the subscription's policy.
 * </ol>
 *
 * The transaction ends when the handler returns, so in this form returning is success in {@link
 * AckMode#MANUAL} too (the handler cannot ack later). A mark whose work commits is never handled
 * again by its group while the mark is kept.
 *
 * <h2>Expiry</h2>
 *
 * Marks stay until {@link #purgeMarkedBefore(Instant)} deletes them (by {@code processed_at}: the
 * database's {@code now()}, when the marking transaction began). Run it periodically with a cutoff
 * older than any duplicate can arrive: the broker's redelivery window, the producers' retries, and
 * how long dead letters may wait for a redrive. A duplicate of a purged mark is handled again.
 *
 * <p>Thread-safe and immutable. Each call borrows a connection from the data source and gives it
 * back before returning; the data source stays the caller's (never closed here).
 */
public final class JdbcProcessedStore implements ProcessedStore {
  /** The table name of the schema script, replaced by the configured one. */
  static final String SCRIPT_TABLE = "polybus_processed";

  private static final String SCRIPT = "processed-schema.sql";
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  /** PostgreSQL's lock_not_available: lock_timeout ran out. */
  private static final String LOCK_NOT_AVAILABLE = "55P03";

  private final DataSource dataSource;
  private final String table;
  private final Duration lockTimeout;
  private final Duration busyRetryDelay;
  private final String insertSql;
  private final String selectSql;
  private final String purgeSql;

  private JdbcProcessedStore(Builder b) {
    this.dataSource = b.dataSource;
    this.table = b.table;
    this.lockTimeout = b.lockTimeout;
    this.busyRetryDelay = b.busyRetryDelay;
    this.insertSql =
        "INSERT INTO "
            + table
            + " (group_name, message_id) VALUES (?, ?) ON CONFLICT (group_name, message_id) DO NOTHING";
    this.selectSql = "SELECT 1 FROM " + table + " WHERE group_name = ? AND message_id = ?";
    this.purgeSql = "DELETE FROM " + table + " WHERE processed_at < ?";
  }

  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** The table, as configured ({@code [schema.]name}). */
  public String table() {
    return table;
  }

  public Duration lockTimeout() {
    return lockTimeout;
  }

  public Duration busyRetryDelay() {
    return busyRetryDelay;
  }

  /**
   * The schema script with the table name of {@code table} ({@code [schema.]name}): what {@link
   * Builder#createTable(boolean) createTable} runs, for those who create it themselves.
   */
  public static String schemaScript(String table) {
    String checked = checkTable(table);
    String name = checked.substring(checked.indexOf('.') + 1);
    String script;
    try (InputStream in = JdbcProcessedStore.class.getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IllegalStateException(SCRIPT + " is missing from polybus-idempotency's jar");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + SCRIPT, e);
    }
    // The index name first: it contains the table name, and an index name cannot be qualified.
    return script
        .replace(SCRIPT_TABLE + "_at_idx", name + "_at_idx")
        .replace(SCRIPT_TABLE, checked);
  }

  @Override
  public boolean isProcessed(String group, String messageId) {
    check(group, messageId);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(selectSql)) {
      ps.setString(1, group);
      ps.setString(2, messageId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw failure("cannot read the mark of " + describe(group, messageId), e);
    }
  }

  @Override
  public boolean markProcessed(String group, String messageId) {
    check(group, messageId);
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      try (PreparedStatement ps = c.prepareStatement(insertSql)) {
        ps.setString(1, group);
        ps.setString(2, messageId);
        int inserted = ps.executeUpdate();
        if (!auto) {
          c.commit(); // a pool handing out connections without auto-commit
        }
        return inserted == 1;
      }
    } catch (SQLException e) {
      throw failure("cannot write the mark of " + describe(group, messageId), e);
    }
  }

  @Override
  public long purgeMarkedBefore(Instant cutoff) {
    Objects.requireNonNull(cutoff, "cutoff");
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(purgeSql)) {
      boolean auto = c.getAutoCommit();
      ps.setObject(1, OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC));
      long purged = ps.executeLargeUpdate();
      if (!auto) {
        c.commit();
      }
      return purged;
    } catch (SQLException e) {
      throw failure("cannot purge the marks before " + cutoff + " from " + table, e);
    }
  }

  /**
   * {@code handler} run in the transaction that marks its delivery processed, skipping messages the
   * group already processed: see the class doc for the order of the steps. Works in {@link
   * AckMode#AUTO} and {@link AckMode#MANUAL} alike (it always settles the delivery itself).
   */
  public Handler transactional(TransactionalHandler handler) {
    Objects.requireNonNull(handler, "handler");
    return delivery -> handleInTransaction(delivery, handler);
  }

  /** {@link #transactional(TransactionalHandler)} for typed subscriptions. */
  public <T> TypedHandler<T> typedTransactional(TypedTransactionalHandler<T> handler) {
    Objects.requireNonNull(handler, "handler");
    return (value, delivery) ->
        handleInTransaction(delivery, (d, c) -> handler.handle(value, d, c));
  }

  private void handleInTransaction(Delivery delivery, TransactionalHandler handler)
      throws Exception {
    String group = delivery.group();
    String id = delivery.message().id();
    Connection c;
    try {
      c = dataSource.getConnection();
    } catch (SQLException e) {
      throw failure("cannot get a connection to mark " + describe(group, id), e);
    }
    try (c) {
      boolean auto;
      try {
        auto = c.getAutoCommit();
        c.setAutoCommit(false);
      } catch (SQLException e) {
        throw failure("cannot begin the transaction to mark " + describe(group, id), e);
      }
      try {
        int inserted;
        try {
          try (Statement s = c.createStatement()) {
            // SET LOCAL: ends with the transaction, so the pooled connection keeps its setting.
            s.execute("SET LOCAL lock_timeout = '" + lockTimeout.toMillis() + "ms'");
          }
          try (PreparedStatement ps = c.prepareStatement(insertSql)) {
            ps.setString(1, group);
            ps.setString(2, id);
            inserted = ps.executeUpdate();
          }
        } catch (SQLException e) {
          c.rollback();
          if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
            // Another transaction still holds this mark uncommitted: its handler is running.
            delivery.retry(busyRetryDelay);
            return;
          }
          throw failure("cannot write the mark of " + describe(group, id), e);
        }
        if (inserted == 0) {
          c.rollback(); // nothing written; ends the read-only transaction
          delivery.ack();
          return;
        }
        TransactionalDelivery tx = new TransactionalDelivery(delivery);
        try {
          handler.handle(tx, c);
        } catch (Throwable t) {
          rollbackQuietly(c, t);
          throw t;
        }
        if (tx.failed()) {
          c.rollback();
          return;
        }
        try {
          c.commit();
        } catch (SQLException e) {
          throw failure("cannot commit the mark and the work of " + describe(group, id), e);
        }
        delivery.ack();
      } finally {
        restoreAutoCommit(c, auto);
      }
    }
  }

  private static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e); // the connection is probably gone; closing it ends the transaction
    }
  }

  private static void restoreAutoCommit(Connection c, boolean auto) {
    try {
      if (!c.isClosed() && c.getAutoCommit() != auto) {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      // The connection is broken; it is closed next, and a pool discards it.
    }
  }

  /**
   * The delivery a transactional handler sees: {@code ack()} only notes the intent (the commit
   * comes first); {@code retry} and {@code deadLetter} are passed on and roll the transaction back.
   * The first settling call wins, as on any delivery.
   */
  private static final class TransactionalDelivery extends ForwardingDelivery {
    private static final int OPEN = 0;
    private static final int ACK = 1;
    private static final int FAILED = 2;
    private final AtomicInteger state = new AtomicInteger(OPEN);

    TransactionalDelivery(Delivery delegate) {
      super(delegate);
    }

    boolean failed() {
      return state.get() == FAILED;
    }

    @Override
    public boolean ack() {
      return !delegate.isSettled() && state.compareAndSet(OPEN, ACK);
    }

    @Override
    public boolean retry(Duration delay) {
      if (!state.compareAndSet(OPEN, FAILED)) {
        return false;
      }
      try {
        return delegate.retry(delay);
      } catch (RuntimeException e) {
        state.set(OPEN); // refused (a delay out of range): unsettled, as the contract says
        throw e;
      }
    }

    @Override
    public boolean deadLetter(String reason) {
      return state.compareAndSet(OPEN, FAILED) && delegate.deadLetter(reason);
    }

    @Override
    public boolean isSettled() {
      return state.get() != OPEN || delegate.isSettled();
    }
  }

  private void createTable() {
    List<String> statements = new ArrayList<>();
    StringBuilder sb = new StringBuilder();
    for (String line : schemaScript(table).split("\n")) {
      if (!line.trim().startsWith("--")) {
        sb.append(line).append('\n');
      }
    }
    for (String s : sb.toString().split(";")) {
      if (!s.isBlank()) {
        statements.add(s.trim());
      }
    }
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        for (String s : statements) {
          try {
            st.execute(s);
          } catch (SQLException e) {
            // Two processes creating the table at once: IF NOT EXISTS is not atomic in PostgreSQL,
            // the loser sees a unique violation on the catalog, and the table exists all the same.
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
              throw e;
            }
          }
        }
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw failure("cannot create the table " + table, e);
    }
  }

  private ProcessedStoreException failure(String what, SQLException e) {
    return new ProcessedStoreException(
        what + " in " + table + ": " + e.getMessage() + " (SQLState " + e.getSQLState() + ")", e);
  }

  private static String describe(String group, String messageId) {
    return "message " + messageId + " for group " + group;
  }

  private static void check(String group, String messageId) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(messageId, "messageId");
  }

  static String checkTable(String table) {
    Objects.requireNonNull(table, "table");
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

  @Override
  public String toString() {
    return "JdbcProcessedStore{table=" + table + ", lockTimeout=" + lockTimeout + "}";
  }

  /** Builds a {@link JdbcProcessedStore}. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private String table = SCRIPT_TABLE;
    private boolean createTable = true;
    private Duration lockTimeout = Duration.ofSeconds(10);
    private Duration busyRetryDelay = Duration.ofSeconds(1);

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** The table of marks, {@code [schema.]name} (default {@code polybus_processed}). */
    public Builder table(String table) {
      this.table = checkTable(table);
      return this;
    }

    /** Whether {@link #build()} creates the table if it does not exist (default true). */
    public Builder createTable(boolean createTable) {
      this.createTable = createTable;
      return this;
    }

    /**
     * How long the transactional form waits for a concurrent transaction holding the same mark
     * (default 10 s, at least 1 ms) before retrying the delivery.
     */
    public Builder lockTimeout(Duration lockTimeout) {
      Objects.requireNonNull(lockTimeout, "lockTimeout");
      if (lockTimeout.toMillis() < 1) {
        throw new IllegalArgumentException("lockTimeout must be at least 1 ms, was " + lockTimeout);
      }
      this.lockTimeout = Idempotent.checked(lockTimeout, "lockTimeout");
      return this;
    }

    /** The delay of that retry (default 1 s). */
    public Builder busyRetryDelay(Duration busyRetryDelay) {
      this.busyRetryDelay = Idempotent.checked(busyRetryDelay, "busyRetryDelay");
      return this;
    }

    /**
     * The store; creates its table first unless {@link #createTable(boolean) createTable(false)}.
     *
     * @throws ProcessedStoreException if the table cannot be created
     */
    public JdbcProcessedStore build() {
      JdbcProcessedStore store = new JdbcProcessedStore(this);
      if (createTable) {
        store.createTable();
      }
      return store;
    }
  }
}
