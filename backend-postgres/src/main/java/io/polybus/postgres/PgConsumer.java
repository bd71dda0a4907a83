package io.polybus.postgres;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.Messages;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One member of a group: leases rows of {@code deliveries} with one statement per poll ({@link
 * Sql#LEASE}, or {@link Sql#LEASE_BY_KEY} under {@link Ordering#KEY}), waits for the bus's LISTEN
 * thread to nudge it (or {@code pollInterval}) when nothing is available, and extends its leases
 * from polls every {@code ackTimeout / 3} (the heartbeat). Settles are queued and sent by the
 * backend's {@link Settler}, batched per statement kind.
 *
 * <p>Invariants: a record is in {@link #held} from its lease until it is settled or given back;
 * every settle is queued at most once per record (the record's {@code settled} flag); after {@link
 * #closed} no settle is queued. {@link #flush} runs under {@link #flushLock}, so the settler and
 * close never send one consumer's operations twice or out of order.
 *
 * <p>Threading as {@link BackendConsumer} says: one poll thread; wakeup, close and settles from any
 * thread.
 */
final class PgConsumer implements BackendConsumer {
  private static final System.Logger LOG = System.getLogger("io.polybus.postgres");

  private record Op(long seq, int kind, long delayMs, int value) {
    static final int ACK = 0;
    static final int RELEASE = 1;
    static final int ATTEMPTS = 2;
  }

  private final PgBackend backend;
  private final ConsumerSpec spec;
  private final int gid;
  private final String owner = "m-" + UUID.randomUUID();
  private final long leaseMs;
  private final String leaseSql;
  private final boolean byKey;
  private final Map<Long, PgRecord> held = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
  private final Object flushLock = new Object();
  final AtomicBoolean scheduled = new AtomicBoolean();

  /** Guards nudges and woken; poll waits on it. */
  private final Object signal = new Object();

  private long nudges;
  private boolean woken;
  private volatile boolean closed;
  private long lastHeartbeat = System.nanoTime();

  /**
   * The highest seq this member leased: most polls look only after it, so a scan does not walk the
   * rows in flight and the index entries of rows acked but not yet vacuumed. Rows before it that
   * become available again (retries coming due, give-backs, expired leases) are found by a full
   * scan at least every pollInterval. Poll thread only.
   */
  private long cursor;

  private long lastFullScan = System.nanoTime();

  private final String moveSql;

  PgConsumer(PgBackend backend, ConsumerSpec spec, int gid) {
    this.backend = backend;
    this.spec = spec;
    this.gid = gid;
    this.leaseMs = Math.max(1, spec.ackTimeout().toMillis());
    this.byKey = spec.ordering() == Ordering.KEY;
    this.leaseSql = Sql.bind(byKey ? Sql.LEASE_BY_KEY : Sql.LEASE, backend.settings());
    this.moveSql = Sql.bind(Sql.MOVE_DUE, backend.settings());
  }

  String topic() {
    return spec.topic();
  }

  /** A commit on this topic: look again. Called by the LISTEN thread. */
  void nudge() {
    synchronized (signal) {
      nudges++;
      signal.notifyAll();
    }
  }

  @Override
  public void wakeup() {
    synchronized (signal) {
      woken = true;
      signal.notifyAll();
    }
  }

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
    if (closed) {
      return List.of();
    }
    heartbeatIfDue();
    if (max <= 0) {
      return List.of();
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    long pollNanos = backend.settings().pollInterval().toNanos();
    while (true) {
      long seen;
      synchronized (signal) {
        seen = nudges;
        if (woken) {
          woken = false;
          return List.of();
        }
      }
      // A full scan at least every pollInterval, whatever else arrives, so rows before the cursor
      // (due retries, give-backs, expired leases, a row another bus committed after a higher seq)
      // never starve behind a steady stream of new ones.
      boolean full = System.nanoTime() - lastFullScan >= pollNanos;
      if (full) {
        lastFullScan = System.nanoTime();
      }
      if (full) {
        moveDue();
      }
      List<InboundRecord> got = lease(max, full ? 0 : cursor);
      if (!got.isEmpty() || closed) {
        return got;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return List.of();
      }
      long waitNanos = Math.min(left, pollNanos);
      synchronized (signal) {
        long until = System.nanoTime() + waitNanos;
        while (nudges == seen && !woken && !closed) {
          long ms = (until - System.nanoTime()) / 1_000_000;
          if (ms <= 0) {
            break;
          }
          signal.wait(ms);
        }
        if (woken) {
          woken = false;
          return List.of();
        }
      }
      heartbeatIfDue();
    }
  }

  /**
   * Publishes this topic's scheduled messages that are due, with each full scan (every {@code
   * pollInterval}); the fan-out trigger then gives every group its rows and notifies. Any member of
   * any group of the topic does it; a topic nobody consumes keeps its due messages scheduled until
   * someone does.
   */
  private void moveDue() {
    try {
      backend
          .pool()
          .transaction(
              c -> {
                try (PreparedStatement ps = c.prepareStatement(moveSql)) {
                  ps.setString(1, spec.topic());
                  ps.setInt(2, 1000);
                  ps.executeUpdate();
                }
                return null;
              });
    } catch (SQLException | RuntimeException e) {
      throw PgErrors.map(
          e, "publishing the due delayed messages of " + spec.topic(), backend.settings());
    }
  }

  private List<InboundRecord> lease(int max, long after) {
    List<PgRecord> out = new ArrayList<>();
    try {
      backend
          .pool()
          .run(
              c -> {
                try (PreparedStatement ps = c.prepareStatement(leaseSql)) {
                  int i = 1;
                  ps.setInt(i++, gid);
                  ps.setLong(i++, after);
                  if (byKey) {
                    ps.setString(i++, owner);
                    ps.setString(i++, owner);
                  }
                  ps.setInt(i++, max);
                  ps.setString(i++, owner);
                  ps.setLong(i++, leaseMs);
                  ps.setInt(i, gid);
                  try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      out.add(record(rs));
                    }
                  }
                }
                return null;
              });
    } catch (SQLException | RuntimeException e) {
      throw PgErrors.map(
          e, "leasing from " + spec.topic() + " for group " + spec.group(), backend.settings());
    }
    if (out.isEmpty()) {
      return List.of();
    }
    out.sort(Comparator.comparingLong(r -> r.seq));
    if (closed) {
      // Closed while the statement ran: give the rows straight back, counted as not delivered.
      List<Op> back = new ArrayList<>();
      for (PgRecord r : out) {
        back.add(new Op(r.seq, Op.RELEASE, 0, 1));
      }
      ops.addAll(back);
      backend.settler().schedule(this);
      return List.of();
    }
    for (PgRecord r : out) {
      held.put(r.seq, r);
    }
    cursor = Math.max(cursor, out.get(out.size() - 1).seq);
    return new ArrayList<>(out);
  }

  private PgRecord record(ResultSet rs) throws SQLException {
    long seq = rs.getLong(1);
    int attempts = rs.getInt(2);
    String id = rs.getString(3);
    String key = rs.getString(4);
    byte[] payload = rs.getBytes(5);
    String headers = rs.getString(6);
    long ts = rs.getLong(7);
    byte[] p = payload == null ? new byte[0] : payload;
    String messageId = id == null || id.isEmpty() ? "pg-" + seq : id;
    Message m =
        headers == null || headers.equals("[]")
            ? Messages.restore(messageId, key, p, Map.of(), ts)
            : Messages.restoreLazily(
                key,
                p,
                ts,
                () -> Messages.restore(messageId, key, p, readHeaders(headers, seq), ts));
    return new PgRecord(seq, attempts, m);
  }

  private Map<String, String> readHeaders(String json, long seq) {
    try {
      return HeadersJson.read(json);
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "message seq "
              + seq
              + " of topic "
              + spec.topic()
              + " has headers that are not a JSON array of pairs or an object; delivered without"
              + " headers: "
              + e.getMessage());
      return Map.of();
    }
  }

  private void heartbeatIfDue() {
    long now = System.nanoTime();
    if (now - lastHeartbeat < leaseMs * 1_000_000L / 3 || held.isEmpty()) {
      return;
    }
    lastHeartbeat = now;
    Long[] seqs = held.keySet().toArray(new Long[0]);
    try {
      backend
          .pool()
          .run(
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement(Sql.bind(Sql.EXTEND, backend.settings()))) {
                  ps.setLong(1, leaseMs);
                  ps.setInt(2, gid);
                  ps.setArray(3, c.createArrayOf("int8", seqs));
                  ps.setString(4, owner);
                  ps.executeUpdate();
                }
                return null;
              });
    } catch (SQLException | RuntimeException e) {
      // The next poll tries again; a lease only lapses after ackTimeout without any success.
      lastHeartbeat = now - leaseMs * 1_000_000L / 3 + 200_000_000L;
      LOG.log(
          System.Logger.Level.DEBUG,
          () -> "heartbeat failed: " + PgErrors.message(e, backend.settings()));
    }
  }

  private void settle(PgRecord r, Op op) {
    if (closed || !r.settled.compareAndSet(false, true)) {
      return;
    }
    if (op.kind != Op.ATTEMPTS) {
      held.remove(r.seq);
    }
    ops.add(op);
    backend.settler().schedule(this);
  }

  /**
   * Sends every queued operation, attempts first, then releases, then acks, one statement each. On
   * failure the operations stay queued, in order, for the next flush.
   */
  void flush() throws SQLException {
    synchronized (flushLock) {
      List<Op> batch = new ArrayList<>();
      Op o;
      while ((o = ops.poll()) != null) {
        batch.add(o);
      }
      if (batch.isEmpty()) {
        return;
      }
      try {
        send(batch);
      } catch (SQLException | RuntimeException e) {
        // Put them back before anything queued since, so the order per record is kept.
        List<Op> rest = new ArrayList<>();
        while ((o = ops.poll()) != null) {
          rest.add(o);
        }
        ops.addAll(batch);
        ops.addAll(rest);
        throw e;
      }
    }
  }

  private void send(List<Op> batch) throws SQLException {
    List<Long> acks = new ArrayList<>();
    List<Long> relSeq = new ArrayList<>();
    List<Long> relDelay = new ArrayList<>();
    List<Integer> relUncount = new ArrayList<>();
    List<Long> attSeq = new ArrayList<>();
    List<Integer> attN = new ArrayList<>();
    for (Op o : batch) {
      switch (o.kind) {
        case Op.ACK -> acks.add(o.seq);
        case Op.RELEASE -> {
          relSeq.add(o.seq);
          relDelay.add(o.delayMs);
          relUncount.add(o.value);
        }
        default -> {
          attSeq.add(o.seq);
          attN.add(o.value);
        }
      }
    }
    PgSettings s = backend.settings();
    backend
        .pool()
        .run(
            c -> {
              if (!attSeq.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement(Sql.bind(Sql.RECORD_ATTEMPTS, s))) {
                  ps.setArray(1, array(c, "int8", attSeq));
                  ps.setArray(2, array(c, "int4", attN));
                  ps.setInt(3, gid);
                  ps.setString(4, owner);
                  ps.executeUpdate();
                }
              }
              if (!relSeq.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement(Sql.bind(Sql.RELEASE, s))) {
                  ps.setArray(1, array(c, "int8", relSeq));
                  ps.setArray(2, array(c, "int8", relDelay));
                  ps.setArray(3, array(c, "int4", relUncount));
                  ps.setInt(4, gid);
                  ps.setString(5, owner);
                  ps.executeUpdate();
                }
              }
              if (!acks.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement(Sql.bind(Sql.ACK, s))) {
                  ps.setInt(1, gid);
                  ps.setArray(2, array(c, "int8", acks));
                  ps.setString(3, owner);
                  ps.executeUpdate();
                }
              }
              return null;
            });
  }

  private static Array array(Connection c, String type, List<?> values) throws SQLException {
    return c.createArrayOf(type, values.toArray());
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    synchronized (signal) {
      signal.notifyAll();
    }
    backend.notifier().unregister(this);
    try {
      flush();
      List<Op> back = new ArrayList<>();
      for (PgRecord r : held.values()) {
        back.add(new Op(r.seq, Op.RELEASE, 0, r.notHandled ? 1 : 0));
      }
      held.clear();
      if (!back.isEmpty()) {
        send(back);
      }
    } catch (SQLException | RuntimeException e) {
      // The database is away: what this member held comes back after ackTimeout, counted.
      LOG.log(
          System.Logger.Level.WARNING,
          "closing a member of group "
              + spec.group()
              + " on "
              + spec.topic()
              + ": could not give back its deliveries ("
              + PgErrors.message(e, backend.settings())
              + "); they return after ackTimeout");
    }
    backend.forget(this);
  }

  /** A leased row. Thread-safe: settles from any thread, the first one wins. */
  private final class PgRecord implements InboundRecord {
    final long seq;
    final int attempts;
    final Message message;
    final AtomicBoolean settled = new AtomicBoolean();
    volatile boolean notHandled;

    PgRecord(long seq, int attempts, Message message) {
      this.seq = seq;
      this.attempts = attempts;
      this.message = message;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int deliveryCount() {
      return Math.max(1, attempts);
    }

    @Override
    public void ack() {
      settle(this, new Op(seq, Op.ACK, 0, 0));
    }

    @Override
    public void release(Duration delay) {
      settle(this, new Op(seq, Op.RELEASE, Math.max(0, delay.toMillis()), 0));
    }

    @Override
    public void recordAttempts(int n) {
      if (closed || settled.get()) {
        return;
      }
      ops.add(new Op(seq, Op.ATTEMPTS, 0, n));
      backend.settler().schedule(PgConsumer.this);
    }

    @Override
    public void markNotHandled() {
      if (!closed && !settled.get()) {
        notHandled = true;
      }
    }
  }
}
