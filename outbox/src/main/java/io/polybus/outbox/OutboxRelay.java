package io.polybus.outbox;

import io.polybus.Codec;
import io.polybus.Message;
import io.polybus.PolybusException;
import io.polybus.PublishReceipt;
import io.polybus.Publisher;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Forwards the committed rows of an outbox table to a {@link Publisher} (any Polybus bus, any
 * backend) and deletes each row in the transaction that forwarded it, after the broker confirmed
 * it. Any number of relays, in one process or many, may run on the same table.
 *
 * <h2>How a relay works</h2>
 *
 * Rows are spread over 32 shards by a hash of (topic, key). A relay's worker, for each shard with
 * pending rows, in one transaction: takes the shard's advisory lock with {@code
 * pg_try_advisory_xact_lock} (another relay has it: skip the shard); reads up to {@link
 * Builder#batchSize(int) batchSize} pending rows of the shard in id order; publishes them, one
 * {@code publishAll} per topic in that order, and waits for the broker's confirmation; deletes the
 * confirmed rows; commits, which releases the lock. The lock is taken in its own statement before
 * the rows are read, so the read sees every delete of the shard's previous owner.
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li><b>Commit order per key.</b> The messages of one (topic, key) are published in the order
 *       their transactions committed (within one transaction, in write order): a writer holds the
 *       key's advisory lock from its write to its commit, so a later id of a key belongs to a later
 *       commit, and one relay at a time publishes a shard, in id order.
 *   <li><b>Deleted only after a confirmation.</b> A row is deleted only in the transaction that
 *       published it, after the publish future completed successfully. A failed, timed-out or
 *       unanswered publish deletes nothing; the shard is retried after a backoff ({@link
 *       Builder#retryBackoff}, per shard and relay, doubling with jitter), while the other shards
 *       keep flowing.
 *   <li><b>No duplicates while nothing fails.</b> Two relays never hold a shard at once.
 *   <li><b>Duplicates, with the same id, only in these windows:</b> the relay dies (or loses its
 *       database connection) after the broker confirmed a batch and before its delete committed:
 *       the next owner of the shard publishes that batch again, each message of it once more, in
 *       order; a publish that timed out or failed after the broker stored part of it: those
 *       messages are sent again on the retry. The ids are the stored ones, so a consumer
 *       deduplicates on {@code Message.id()} ({@code polybus-idempotency}).
 *   <li><b>Not guaranteed:</b> order across keys or topics, or for messages without a key; order
 *       when a relay's database session is lost while its publish is still in flight (the next
 *       owner may then send a batch while that publish lands, so an earlier message of a key can
 *       arrive again after a later one); exactly-once delivery.
 * </ul>
 *
 * <h2>What cannot be published</h2>
 *
 * A publish that fails non-transiently ({@link PolybusException#isTransient()} false: an unknown
 * topic, a payload too large for the backend, an {@link IllegalArgumentException}) is retried
 * alone, message by message, and each message that fails so again is <b>parked</b>: the row stays,
 * with {@code parked_at} and {@code last_error}, and is no longer forwarded. Like a dead letter, it
 * does not hold back the later messages of its key. Parking is logged (WARNING, with id, topic, key
 * and error), counted in {@link OutboxLag#parked()} and in the {@code polybus.outbox.parked} gauge;
 * see {@link #parked(int)} and {@link #unpark(String)}. A closed bus or any other exception is
 * treated as transient: nothing is parked for it.
 *
 * <h2>Trace context</h2>
 *
 * The relay publishes the stored headers unchanged, trace context included. Give it a bus connected
 * without a tracing instrumentation (metrics are fine): a tracing observer would start a new send
 * span on the relay's thread, where no trace is current, and replace the stored context with it.
 *
 * <p>Thread-safe. {@link #start()} starts the relay's worker threads ({@link
 * Builder#concurrency(int)}, named {@code polybus-outbox-relay-<table>-<n>}, not daemons: a started
 * relay keeps the JVM alive until closed); {@link #close()} stops them after their current batch.
 * The data source and the publisher stay the caller's: the relay borrows connections and gives them
 * back, and never closes either.
 */
public final class OutboxRelay implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.polybus.outbox");

  private final DataSource dataSource;
  private final Publisher publisher;
  private final OutboxTable table;
  private final int batchSize;
  private final Duration pollInterval;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration publishTimeout;
  private final Duration lagRefresh;
  private final int concurrency;

  /** Per shard: when it may be tried again (System.nanoTime), its current backoff and failures. */
  private final long[] retryAt = new long[OutboxTable.SHARDS];

  private final long[] backoffNanos = new long[OutboxTable.SHARDS];
  private final int[] consecutiveFailures = new int[OutboxTable.SHARDS];

  private final AtomicLong forwarded = new AtomicLong();
  private final AtomicLong parkedCount = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile OutboxLag cachedLag;
  private volatile long cachedLagNanos;

  private final CountDownLatch closed = new CountDownLatch(1);
  private final List<Thread> workers = new ArrayList<>();
  private boolean started; // guarded by this

  private OutboxRelay(Builder b) {
    this.dataSource = b.dataSource;
    this.publisher = b.publisher;
    this.table = new OutboxTable(b.table);
    this.batchSize = b.batchSize;
    this.pollInterval = b.pollInterval;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.publishTimeout = b.publishTimeout;
    this.lagRefresh = b.lagRefresh;
    this.concurrency = b.concurrency;
    if (b.createTable) {
      table.create(dataSource);
    }
  }

  /**
   * A builder for a relay that reads {@code dataSource}'s table {@code polybus_outbox} and
   * publishes to {@code publisher} (usually a {@code Polybus}).
   */
  public static Builder builder(DataSource dataSource, Publisher publisher) {
    return new Builder(dataSource, publisher);
  }

  /**
   * Starts the worker threads. Returns this relay.
   *
   * @throws IllegalStateException if it was started before or is closed
   */
  public synchronized OutboxRelay start() {
    if (started || closed.getCount() == 0) {
      throw new IllegalStateException("the relay was started before or is closed: " + this);
    }
    started = true;
    for (int i = 0; i < concurrency; i++) {
      int worker = i;
      Thread t = new Thread(() -> run(worker), "polybus-outbox-relay-" + table.name + "-" + i);
      workers.add(t);
      t.start();
    }
    return this;
  }

  /**
   * Asks the database now how far the relays of this table are behind (one query that counts the
   * table's rows: cheap for a backlog of thousands, a scan for millions).
   *
   * @throws SQLException if the database could not be asked
   */
  public OutboxLag lag() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(table.lagSql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      long pending = rs.getLong(1);
      long parked = rs.getLong(2);
      Timestamp oldest = rs.getTimestamp(3);
      Instant now = rs.getTimestamp(4).toInstant();
      Duration age = oldest == null ? Duration.ZERO : Duration.between(oldest.toInstant(), now);
      return new OutboxLag(pending, age.isNegative() ? Duration.ZERO : age, parked, now);
    }
  }

  /**
   * The parked rows, oldest first, at most {@code limit}.
   *
   * @throws SQLException if the database could not be asked
   */
  public List<ParkedMessage> parked(int limit) throws SQLException {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }
    List<ParkedMessage> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(table.parkedSql)) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new ParkedMessage(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getTimestamp(4).toInstant(),
                  rs.getTimestamp(5).toInstant(),
                  rs.getString(6)));
        }
      }
    }
    return out;
  }

  /**
   * Puts the parked rows of {@code messageId} back in line. They keep their place by id, so they
   * are published before the later pending messages of their key, but after those already forwarded
   * while they were parked.
   *
   * @return the number of rows unparked (0 when none of that id is parked)
   * @throws SQLException if the database refused the update
   */
  public int unpark(String messageId) throws SQLException {
    Objects.requireNonNull(messageId, "messageId");
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(table.unparkSql)) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      ps.setString(1, messageId);
      return ps.executeUpdate();
    }
  }

  /** The lag the first worker measured last, or null before the first measurement. */
  OutboxLag cachedLag() {
    return cachedLag;
  }

  /** System.nanoTime() of {@link #cachedLag()}. */
  long cachedLagNanos() {
    return cachedLagNanos;
  }

  Duration lagRefresh() {
    return lagRefresh;
  }

  String tableName() {
    return table.name;
  }

  /** Messages confirmed by the broker and deleted, since this relay was built. */
  long forwardedCount() {
    return forwarded.get();
  }

  /** Rows this relay parked. */
  long parkedCount() {
    return parkedCount.get();
  }

  /** Failed attempts: a shard's publish that failed transiently, or a database error. */
  long failureCount() {
    return failures.get();
  }

  /**
   * Stops the workers once their current batch is published and its rows deleted (or rolled back),
   * waiting for them at most the publish timeout and 10 s. Idempotent; a relay cannot start again.
   */
  @Override
  public void close() {
    closed.countDown();
    List<Thread> threads;
    synchronized (this) {
      threads = new ArrayList<>(workers);
    }
    long deadline = System.nanoTime() + publishTimeout.plusSeconds(10).toNanos();
    for (Thread t : threads) {
      if (t == Thread.currentThread()) {
        continue;
      }
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (t.isAlive()) {
        LOG.log(System.Logger.Level.WARNING, "{0} did not stop in time", t.getName());
      }
    }
  }

  private boolean isClosed() {
    return closed.getCount() == 0;
  }

  private void run(int worker) {
    long dbBackoff = initialBackoff.toNanos();
    while (!isClosed()) {
      int done;
      try {
        done = round(worker);
        dbBackoff = initialBackoff.toNanos();
      } catch (SQLException | RuntimeException e) {
        failures.incrementAndGet();
        LOG.log(
            System.Logger.Level.WARNING,
            "outbox relay of "
                + table.name
                + ": the database failed ("
                + e
                + "); trying again in "
                + TimeUnit.NANOSECONDS.toMillis(dbBackoff)
                + " ms");
        sleep(dbBackoff);
        dbBackoff = Math.min(dbBackoff * 2, maxBackoff.toNanos());
        continue;
      }
      if (worker == 0 && System.nanoTime() - cachedLagNanos >= lagRefresh.toNanos()) {
        try {
          cachedLag = lag();
          cachedLagNanos = System.nanoTime();
        } catch (SQLException e) {
          LOG.log(System.Logger.Level.DEBUG, "cannot measure the outbox lag", e);
        }
      }
      if (done == 0) {
        sleep(pollInterval.toNanos());
      }
    }
  }

  private void sleep(long nanos) {
    try {
      closed.await(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed.countDown();
    }
  }

  /** One pass over the shards with work; returns the rows forwarded or parked. */
  private int round(int worker) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      List<Integer> shards = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(table.shardsWithWorkSql);
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          shards.add(rs.getInt(1));
        }
      }
      c.commit();
      if (shards.isEmpty()) {
        return 0;
      }
      // Start somewhere else each time, so that relays (and workers) spread over the shards
      // instead of all asking for the same lock first.
      int start = ThreadLocalRandom.current().nextInt(shards.size());
      int done = 0;
      for (int i = 0; i < shards.size() && !isClosed(); i++) {
        int shard = shards.get((start + i) % shards.size());
        if (!mayTry(shard)) {
          continue;
        }
        done += forward(c, shard);
      }
      return done;
    }
  }

  /**
   * Forwards one batch of one shard, in one transaction: lock, read, publish, delete, commit.
   * Returns the rows forwarded or parked.
   */
  private int forward(Connection c, int shard) throws SQLException {
    boolean committed = false;
    try {
      try (PreparedStatement lock = c.prepareStatement(table.tryLockShardSql)) {
        lock.setInt(1, table.relayClass);
        lock.setInt(2, shard);
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          if (!rs.getBoolean(1)) {
            return 0; // another relay (or worker) has the shard now
          }
        }
      }
      List<Row> rows = read(c, shard);
      Result result = publish(rows);
      if (!result.confirmed.isEmpty()) {
        try (PreparedStatement delete = c.prepareStatement(table.deleteSql)) {
          delete.setArray(1, c.createArrayOf("bigint", result.confirmed.toArray(new Long[0])));
          delete.executeUpdate();
        }
      }
      if (!result.parked.isEmpty()) {
        try (PreparedStatement park = c.prepareStatement(table.parkSql)) {
          for (Map.Entry<Row, String> p : result.parked.entrySet()) {
            park.setString(1, p.getValue());
            park.setLong(2, p.getKey().id);
            park.addBatch();
          }
          park.executeBatch();
        }
      }
      c.commit();
      committed = true;
      forwarded.addAndGet(result.confirmed.size());
      parkedCount.addAndGet(result.parked.size());
      for (Map.Entry<Row, String> p : result.parked.entrySet()) {
        Row r = p.getKey();
        LOG.log(
            System.Logger.Level.WARNING,
            "outbox "
                + table.name
                + ": parked message "
                + r.messageId
                + " to '"
                + r.topic
                + "' (key "
                + r.key
                + "), it cannot be published: "
                + p.getValue());
      }
      if (result.transientFailure != null) {
        failed(shard, result.transientFailure);
      } else {
        succeeded(shard);
      }
      return result.confirmed.size() + result.parked.size();
    } finally {
      if (!committed) {
        try {
          c.rollback();
        } catch (SQLException e) {
          LOG.log(System.Logger.Level.DEBUG, "rollback failed", e);
        }
      }
    }
  }

  private List<Row> read(Connection c, int shard) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(table.selectShardSql)) {
      ps.setInt(1, shard);
      ps.setInt(2, batchSize);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Row r = new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4));
          try {
            r.message =
                rebuild(
                    r,
                    strings(rs.getArray(5)),
                    strings(rs.getArray(6)),
                    rs.getBytes(7),
                    rs.getLong(8));
          } catch (RuntimeException e) {
            r.invalid = "not a valid message: " + e;
          }
          rows.add(r);
        }
      }
    }
    return rows;
  }

  private static String[] strings(Array array) throws SQLException {
    try {
      return (String[]) array.getArray();
    } finally {
      array.free();
    }
  }

  /**
   * The message as it was written. Message.Builder refuses reserved header names, so the two codec
   * headers (the only reserved ones the outbox stores) are put back through {@link
   * Message.Builder#value}, with a codec that hands back the stored payload; the other headers are
   * put in their stored order around them.
   */
  static Message rebuild(Row r, String[] names, String[] values, byte[] payload, long ts) {
    if (names.length != values.length) {
      throw new IllegalArgumentException(
          names.length + " header names but " + values.length + " values");
    }
    Message.Builder b =
        Message.builder().id(r.messageId).key(r.key).payload(payload).timestampMillis(ts);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      headers.put(names[i], values[i]);
    }
    String contentType = headers.get(Codec.CONTENT_TYPE_HEADER);
    String typeName = headers.get(Codec.TYPE_HEADER);
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      if (name.equals(Codec.CONTENT_TYPE_HEADER)) {
        b.value(new StoredPayload(contentType, typeName, payload), payload);
      } else if (!name.equals(Codec.TYPE_HEADER)) {
        b.header(name, h.getValue());
      }
    }
    return b.build();
  }

  /** A codec whose encoding is the stored payload: only to set the codec headers. */
  private record StoredPayload(String contentType, String typeName, byte[] bytes)
      implements Codec<byte[]> {
    @Override
    public byte[] encode(byte[] value) {
      return bytes;
    }

    @Override
    public byte[] decode(byte[] payload, String contentType, String typeName) {
      return payload;
    }
  }

  /**
   * Publishes the rows in order: one publishAll per run of rows of the same topic. A non-transient
   * failure of a run is retried message by message, parking those that fail so again; a transient
   * failure stops the batch there (what was confirmed before it is still deleted).
   */
  private Result publish(List<Row> rows) {
    Result result = new Result();
    int i = 0;
    while (i < rows.size() && result.transientFailure == null) {
      int j = i;
      List<Row> run = new ArrayList<>();
      while (j < rows.size() && rows.get(j).topic.equals(rows.get(i).topic)) {
        run.add(rows.get(j++));
      }
      i = j;
      List<Row> valid = new ArrayList<>();
      for (Row r : run) {
        if (r.invalid != null) {
          result.parked.put(r, r.invalid);
        } else {
          valid.add(r);
        }
      }
      if (valid.isEmpty()) {
        continue;
      }
      Throwable failure = send(valid);
      if (failure == null) {
        valid.forEach(r -> result.confirmed.add(r.id));
      } else if (isTransient(failure)) {
        result.transientFailure = failure;
      } else {
        for (Row r : valid) {
          Throwable alone = send(List.of(r));
          if (alone == null) {
            result.confirmed.add(r.id);
          } else if (isTransient(alone)) {
            result.transientFailure = alone;
            break;
          } else {
            result.parked.put(r, String.valueOf(alone));
          }
        }
      }
    }
    return result;
  }

  /** Publishes one topic's rows and waits for the confirmation; null when confirmed. */
  private Throwable send(List<Row> rows) {
    List<Message> messages = new ArrayList<>(rows.size());
    rows.forEach(r -> messages.add(r.message));
    Future<List<PublishReceipt>> future;
    try {
      future = publisher.publishAll(rows.get(0).topic, messages);
    } catch (RuntimeException e) {
      return e;
    }
    try {
      future.get(publishTimeout.toNanos(), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause() != null ? e.getCause() : e;
    } catch (TimeoutException | CancellationException e) {
      future.cancel(false);
      return new TimeoutException(
          "no confirmation within the relay's publishTimeout of " + publishTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed.countDown();
      return e;
    }
  }

  /** Only a failure a retry cannot fix parks a row; anything unknown is retried. */
  private static boolean isTransient(Throwable t) {
    if (t instanceof PolybusException p) {
      return p.isTransient();
    }
    return !(t instanceof IllegalArgumentException);
  }

  private synchronized boolean mayTry(int shard) {
    return retryAt[shard] == 0 || System.nanoTime() - retryAt[shard] >= 0;
  }

  private synchronized void succeeded(int shard) {
    if (consecutiveFailures[shard] > 0) {
      LOG.log(
          System.Logger.Level.INFO,
          "outbox {0}: shard {1} flows again after {2} failed attempts",
          table.name,
          shard,
          consecutiveFailures[shard]);
    }
    retryAt[shard] = 0;
    backoffNanos[shard] = 0;
    consecutiveFailures[shard] = 0;
  }

  private synchronized void failed(int shard, Throwable why) {
    failures.incrementAndGet();
    long next =
        backoffNanos[shard] == 0
            ? initialBackoff.toNanos()
            : Math.min(backoffNanos[shard] * 2, maxBackoff.toNanos());
    backoffNanos[shard] = next;
    // Up to 20 % more, so that relays that failed together do not retry in lockstep.
    long wait = next + (long) (next * 0.2 * ThreadLocalRandom.current().nextDouble());
    retryAt[shard] = System.nanoTime() + wait;
    int n = ++consecutiveFailures[shard];
    if (Integer.bitCount(n) == 1) { // the 1st, 2nd, 4th, 8th ... failure: enough to see, no flood
      LOG.log(
          System.Logger.Level.WARNING,
          "outbox "
              + table.name
              + ": publishing shard "
              + shard
              + " failed ("
              + why
              + "), attempt "
              + n
              + "; nothing deleted, trying again in "
              + TimeUnit.NANOSECONDS.toMillis(wait)
              + " ms");
    }
  }

  @Override
  public String toString() {
    return "OutboxRelay{table=" + table.name + ", concurrency=" + concurrency + "}";
  }

  /** One row read for forwarding. */
  static final class Row {
    final long id;
    final String topic;
    final String messageId;
    final String key;
    Message message;
    String invalid;

    Row(long id, String topic, String messageId, String key) {
      this.id = id;
      this.topic = topic;
      this.messageId = messageId;
      this.key = key;
    }
  }

  private static final class Result {
    final List<Long> confirmed = new ArrayList<>();
    final Map<Row, String> parked = new LinkedHashMap<>();
    Throwable transientFailure;
  }

  /** Builds an {@link OutboxRelay}. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private final Publisher publisher;
    private String table = OutboxTable.DEFAULT_TABLE;
    private int batchSize = 100;
    private Duration pollInterval = Duration.ofMillis(100);
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(10);
    private Duration publishTimeout = Duration.ofSeconds(30);
    private Duration lagRefresh = Duration.ofSeconds(5);
    private int concurrency = 1;
    private boolean createTable = true;

    private Builder(DataSource dataSource, Publisher publisher) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    /** The table, as given to {@link Outbox.Builder#table(String)}; {@code polybus_outbox}. */
    public Builder table(String table) {
      this.table = OutboxTable.check(table);
      return this;
    }

    /** The most rows of one shard published and deleted in one transaction; 100 unless set. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1 || batchSize > 10_000) {
        throw new IllegalArgumentException("batchSize must be 1 to 10000, was " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** How long a worker waits after a pass that found nothing to do; 100 ms unless set. */
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = positive(pollInterval, "pollInterval");
      return this;
    }

    /**
     * The wait after a shard's failed publish (or a database error): {@code initial}, doubled on
     * each further failure up to {@code max}, plus up to 20 % jitter; 100 ms and 10 s unless set.
     */
    public Builder retryBackoff(Duration initial, Duration max) {
      positive(initial, "initial backoff");
      positive(max, "max backoff");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("max backoff " + max + " < initial " + initial);
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * How long the relay waits for the broker's confirmation of one publish before it counts it as
     * failed (nothing deleted; it may still have arrived); 30 s unless set. The backend's own
     * publish timeout usually answers first.
     */
    public Builder publishTimeout(Duration publishTimeout) {
      this.publishTimeout = positive(publishTimeout, "publishTimeout");
      return this;
    }

    /** How often the relay measures its lag for {@link OutboxMetrics}; 5 s unless set. */
    public Builder lagRefresh(Duration lagRefresh) {
      this.lagRefresh = positive(lagRefresh, "lagRefresh");
      return this;
    }

    /**
     * Worker threads, each forwarding other shards at the same time (they share out the shards by
     * the same locks as several relays do); 1 unless set, at most 32 (the shards).
     */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1 || concurrency > OutboxTable.SHARDS) {
        throw new IllegalArgumentException(
            "concurrency must be 1 to " + OutboxTable.SHARDS + ", was " + concurrency);
      }
      this.concurrency = concurrency;
      return this;
    }

    /**
     * Whether {@link #build()} creates the table unless it exists ({@link
     * Outbox#schemaScript(String)}); true unless set.
     */
    public Builder createTable(boolean createTable) {
      this.createTable = createTable;
      return this;
    }

    /**
     * The relay, not yet started.
     *
     * @throws IllegalStateException if the table was to be created and could not be
     */
    public OutboxRelay build() {
      return new OutboxRelay(this);
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(what + " must be positive, was " + d);
      }
      return d;
    }
  }
}
