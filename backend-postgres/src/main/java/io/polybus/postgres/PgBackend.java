package io.polybus.postgres;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One bus on one PostgreSQL schema: the pool, the publish thread, the settle thread, the LISTEN
 * thread and (with retention configured) a retention task. See {@code docs/backend-postgres.md}.
 *
 * <p>Thread-safe, as {@link Backend} requires. Owns its threads and connections; an application's
 * DataSource is used, never closed.
 */
final class PgBackend implements Backend {
  private static final System.Logger LOG = System.getLogger("io.polybus.postgres");

  private final PgSettings settings;
  private final Connections pool;
  private final Publisher publisher;
  private final Settler settler;
  private final Notifier notifier;
  private final Capabilities capabilities;
  private final Map<String, Integer> gids = new ConcurrentHashMap<>();
  private final Set<PgConsumer> consumers = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService retention;

  PgBackend(PgSettings settings, Connections pool) {
    this.settings = settings;
    this.pool = pool;
    this.publisher = new Publisher(pool, settings);
    this.settler = new Settler(settings.schema());
    this.notifier = new Notifier(pool, settings);
    this.capabilities = capabilities(settings.maxPayloadBytes());
    if (!settings.retention().isZero() || settings.maxMessages() > 0) {
      retention =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "polybus-postgres-retention-" + settings.schema());
                t.setDaemon(true);
                return t;
              });
      long every = Math.max(1, settings.retentionCheckInterval().toMillis());
      retention.scheduleWithFixedDelay(this::enforceRetention, every, every, TimeUnit.MILLISECONDS);
    } else {
      retention = null;
    }
  }

  static Capabilities capabilities(int maxPayload) {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(true)
        .replayFromTimestamp(true)
        .replayFromOffset(true)
        .durable(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
        .uncountedGiveBack(true)
        .lagAccuracy(ConsumerLag.Accuracy.EXACT)
        .maxPayloadBytes(maxPayload)
        .maxHeaders(64)
        .maxDeliveryDelay(MAX_DELIVERY_DELAY)
        .build();
  }

  /**
   * Scheduled messages wait in a table; the bound only keeps a mistaken delay from being accepted
   * silently.
   */
  static final java.time.Duration MAX_DELIVERY_DELAY = java.time.Duration.ofDays(30);

  PgSettings settings() {
    return settings;
  }

  Connections pool() {
    return pool;
  }

  Settler settler() {
    return settler;
  }

  Notifier notifier() {
    return notifier;
  }

  void forget(PgConsumer c) {
    consumers.remove(c);
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    return publisher.publish(topic, messages);
  }

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    gid(topic, group, startFrom);
  }

  /**
   * The group's id, creating the group (and its rows for the retained messages it starts with) when
   * it does not exist. Creating takes the topic's advisory lock exclusively, so no publish of the
   * topic is between its insert and its commit: each message is either committed before (then it is
   * in the backfill, or before LATEST) or fans out to the new group itself.
   */
  private int gid(String topic, String group, StartFrom from) {
    String k = topic + '\n' + group;
    Integer known = gids.get(k);
    if (known != null) {
      return known;
    }
    try {
      int gid =
          pool.transaction(
              c -> {
                Integer found = find(c, topic, group);
                if (found != null) {
                  return found;
                }
                try (PreparedStatement ps = c.prepareStatement(Sql.LOCK_TOPIC)) {
                  ps.setString(1, settings.channel());
                  ps.setString(2, topic);
                  ps.execute();
                }
                Integer created = null;
                try (PreparedStatement ps = c.prepareStatement(bind(Sql.CREATE_GROUP))) {
                  ps.setString(1, topic);
                  ps.setString(2, group);
                  try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                      created = rs.getInt(1);
                    }
                  }
                }
                if (created == null) {
                  return find(c, topic, group); // created by another bus meanwhile
                }
                backfill(c, created, topic, from);
                return created;
              });
      gids.put(k, gid);
      return gid;
    } catch (SQLException | RuntimeException e) {
      throw PgErrors.map(e, "creating group " + group + " of topic " + topic, settings);
    }
  }

  private Integer find(Connection c, String topic, String group) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(bind(Sql.FIND_GROUP))) {
      ps.setString(1, topic);
      ps.setString(2, group);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : null;
      }
    }
  }

  private void backfill(Connection c, int gid, String topic, StartFrom from) throws SQLException {
    switch (from.kind()) {
      case LATEST -> {}
      case TIMESTAMP -> {
        try (PreparedStatement ps = c.prepareStatement(bind(Sql.BACKFILL_FROM_TS))) {
          ps.setInt(1, gid);
          ps.setString(2, topic);
          ps.setString(3, topic);
          ps.setLong(4, from.timestampMillis());
          ps.executeUpdate();
        }
      }
      default -> {
        try (PreparedStatement ps = c.prepareStatement(bind(Sql.BACKFILL_FROM_SEQ))) {
          ps.setInt(1, gid);
          ps.setString(2, topic);
          ps.setLong(3, from.kind() == StartFrom.Kind.EARLIEST ? 0 : from.offset());
          ps.executeUpdate();
        }
      }
    }
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    int gid = gid(spec.topic(), spec.group(), spec.startFrom());
    PgConsumer c = new PgConsumer(this, spec, gid);
    consumers.add(c);
    notifier.register(c);
    return c;
  }

  @Override
  public ConsumerLag lag(String topic, String group) {
    try {
      return pool.run(
          c -> {
            Integer gid = gids.get(topic + '\n' + group);
            if (gid == null) {
              gid = find(c, topic, group);
            }
            if (gid == null) {
              return ConsumerLag.of(
                  topic, group, 0, null, ConsumerLag.Accuracy.EXACT, Instant.now());
            }
            try (PreparedStatement ps = c.prepareStatement(bind(Sql.LAG))) {
              ps.setInt(1, gid);
              try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long n = rs.getLong(1);
                long age = rs.getLong(2);
                Duration oldest =
                    rs.wasNull() || n == 0 ? null : Duration.ofMillis(Math.max(0, age));
                return ConsumerLag.of(
                    topic, group, n, oldest, ConsumerLag.Accuracy.EXACT, Instant.now());
              }
            }
          });
    } catch (SQLException | RuntimeException e) {
      throw PgErrors.map(e, "reading the lag of group " + group + " on " + topic, settings);
    }
  }

  /**
   * Deletes the topic's rows (messages, groups, deliveries) in one transaction, under the topic's
   * exclusive advisory lock so no publish of it is between insert and commit. A topic that is
   * already gone deletes nothing.
   */
  @Override
  public boolean deleteTopic(String topic) {
    try {
      pool.transaction(
          c -> {
            try (PreparedStatement ps = c.prepareStatement(Sql.LOCK_TOPIC)) {
              ps.setString(1, settings.channel());
              ps.setString(2, topic);
              ps.execute();
            }
            for (String sql :
                List.of(
                    Sql.DELETE_TOPIC_DELIVERIES,
                    Sql.DELETE_TOPIC_GROUPS,
                    Sql.DELETE_TOPIC_MESSAGES,
                    Sql.DELETE_TOPIC_SCHEDULED)) {
              try (PreparedStatement ps = c.prepareStatement(bind(sql))) {
                ps.setString(1, topic);
                ps.executeUpdate();
              }
            }
            return null;
          });
    } catch (SQLException | RuntimeException e) {
      throw PgErrors.map(e, "deleting topic " + topic, settings);
    }
    gids.keySet().removeIf(k -> k.startsWith(topic + '\n'));
    return true;
  }

  @Override
  public Health health() {
    try {
      return pool.run(
          c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1")) {
              ps.setQueryTimeout(10);
              ps.execute();
            }
            return Health.up("postgres " + settings.where() + " schema " + settings.schema());
          });
    } catch (SQLException | RuntimeException e) {
      return Health.down(PgErrors.map(e, "health check", settings).getMessage());
    }
  }

  /** Deletes what retention says, in chunks; one bus per schema at a time (an advisory lock). */
  void enforceRetention() {
    try {
      long deleted =
          pool.transaction(
              c -> {
                try (PreparedStatement ps = c.prepareStatement(Sql.TRY_RETENTION_LOCK)) {
                  ps.setString(1, settings.channel());
                  try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                      return 0L;
                    }
                  }
                }
                long n = 0;
                if (!settings.retention().isZero()) {
                  long got;
                  do {
                    try (PreparedStatement ps = c.prepareStatement(bind(Sql.RETAIN_AGE))) {
                      ps.setLong(1, settings.retention().toMillis());
                      try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        got = rs.getLong(1);
                      }
                    }
                    n += got;
                  } while (got >= 10_000);
                }
                if (settings.maxMessages() > 0) {
                  List<String> topics = new ArrayList<>();
                  try (PreparedStatement ps = c.prepareStatement(bind(Sql.TOPICS));
                      ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      topics.add(rs.getString(1));
                    }
                  }
                  for (String t : topics) {
                    try (PreparedStatement ps = c.prepareStatement(bind(Sql.RETAIN_COUNT))) {
                      ps.setString(1, t);
                      ps.setLong(2, settings.maxMessages());
                      ps.setString(3, t);
                      try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        n += rs.getLong(1);
                      }
                    }
                  }
                }
                return n;
              });
      if (deleted > 0) {
        LOG.log(System.Logger.Level.DEBUG, () -> "retention deleted " + deleted + " messages");
      }
    } catch (SQLException | RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          () ->
              "retention on schema "
                  + settings.schema()
                  + " failed: "
                  + PgErrors.message(e, settings));
    }
  }

  private String bind(String template) {
    return Sql.bind(template, settings);
  }

  @Override
  public void close() {
    for (PgConsumer c : List.copyOf(consumers)) {
      c.close();
    }
    publisher.close();
    settler.close();
    notifier.close();
    if (retention != null) {
      retention.shutdownNow();
    }
    pool.close();
  }

  @Override
  public String toString() {
    return "PgBackend[" + settings.where() + ", schema " + settings.schema() + "]";
  }
}
