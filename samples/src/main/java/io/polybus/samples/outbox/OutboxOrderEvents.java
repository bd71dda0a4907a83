package io.polybus.samples.outbox;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.polybus.JsonCodec;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.outbox.Outbox;
import io.polybus.outbox.OutboxLag;
import io.polybus.outbox.OutboxRelay;
import io.polybus.samples.OrderCreated;
import io.polybus.samples.OrderPipeline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The order service of the demo with a transactional outbox ({@code scripts/demo --outbox}): each
 * order is one PostgreSQL transaction that inserts the order row into {@code polybus_demo.orders}
 * (or another schema's) and writes its {@code OrderCreated} event with {@link Outbox#publish}; a
 * {@link OutboxRelay} on the demo's bus forwards the committed events. An order whose transaction
 * rolled back would leave neither a row nor an event.
 *
 * <p>Owns its HikariCP pool and its relay, both closed by {@link #close()}. Used by one thread (the
 * demo's publisher); not thread-safe.
 */
public final class OutboxOrderEvents implements OrderPipeline.OrderEvents {
  /** The demo's database: the machine's PostgreSQL, database {@code test}. */
  public static final String DEFAULT_JDBC_URL =
      "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

  /** The schema of the demo's tables: {@code orders} and the outbox table {@code outbox}. */
  public static final String DEFAULT_SCHEMA = "polybus_demo";

  private static final JsonCodec<OrderCreated> CODEC = JsonCodec.of(OrderCreated.class);

  private final String schema;
  private final String ordersTable;
  private final String outboxTable;
  private final HikariDataSource pool;
  private final Outbox outbox;
  private final Consumer<String> log;
  private OutboxRelay relay;
  private long committed;

  /**
   * Connects to {@code jdbcUrl} and creates the schema, the orders table and the outbox table
   * unless they exist.
   *
   * @throws IllegalStateException if the database cannot be reached or refuses the schema
   */
  public OutboxOrderEvents(String jdbcUrl, Consumer<String> log) {
    this(jdbcUrl, DEFAULT_SCHEMA, log);
  }

  /**
   * Like {@link #OutboxOrderEvents(String, Consumer)}, with the tables in {@code schema} (a plain
   * lower-case identifier).
   */
  public OutboxOrderEvents(String jdbcUrl, String schema, Consumer<String> log) {
    this.log = Objects.requireNonNull(log, "log");
    if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException("schema must be a plain lower-case identifier: " + schema);
    }
    this.schema = schema;
    this.ordersTable = schema + ".orders";
    this.outboxTable = schema + ".outbox";
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(Objects.requireNonNull(jdbcUrl, "jdbcUrl"));
    config.setMaximumPoolSize(4);
    config.setPoolName("polybus-demo-outbox");
    config.setInitializationFailTimeout(5_000);
    try {
      this.pool = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot connect to PostgreSQL at " + jdbcUrl + ": " + e.getMessage(), e);
    }
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      // Keyed by (run, order): every demo run numbers its orders from ord-000000 again.
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + ordersTable
              + " (run_id text NOT NULL, order_id text NOT NULL, customer_id text NOT NULL,"
              + " sku text NOT NULL, quantity int NOT NULL, price_cents bigint NOT NULL,"
              + " created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, order_id))");
    } catch (SQLException e) {
      pool.close();
      throw new IllegalStateException("cannot create " + ordersTable + ": " + e.getMessage(), e);
    }
    this.outbox = Outbox.builder().table(outboxTable).createTable(pool).build();
  }

  @Override
  public void publish(Polybus bus, String topic, List<Message> batch) {
    if (relay == null) {
      // The relay forwards to the demo's own bus. With --traces that bus traces, so the event's
      // trace starts at the relay's send span (see docs/outbox.md, "Not guaranteed").
      relay =
          OutboxRelay.builder(pool, bus)
              .table(outboxTable)
              .batchSize(250)
              .concurrency(2)
              .pollInterval(Duration.ofMillis(20))
              .createTable(false)
              .build()
              .start();
      log.accept("outbox: relay started on " + outboxTable + "; one transaction per order");
    }
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO "
                  + ordersTable
                  + " (run_id, order_id, customer_id, sku, quantity, price_cents)"
                  + " VALUES (?, ?, ?, ?, ?, ?)")) {
        for (Message m : batch) {
          OrderCreated order = CODEC.decode(m);
          insert.setString(1, m.header("demo-run"));
          insert.setString(2, order.orderId());
          insert.setString(3, order.customerId());
          insert.setString(4, order.sku());
          insert.setInt(5, order.quantity());
          insert.setLong(6, order.priceCents());
          insert.executeUpdate();
          outbox.publish(c, topic, m);
          c.commit(); // the order row and its event, together
          committed++;
        }
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the order transaction failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      if (relay != null) {
        OutboxLag lag = relay.lag();
        log.accept(
            "outbox: "
                + committed
                + " order rows committed with their events; "
                + lag.pending()
                + " events still waiting, "
                + lag.parked()
                + " parked");
        relay.close();
      }
    } catch (SQLException e) {
      log.accept("outbox: cannot read the relay's lag: " + e.getMessage());
    } finally {
      pool.close();
    }
  }
}
