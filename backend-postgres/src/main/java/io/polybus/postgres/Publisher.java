package io.polybus.postgres;

import io.polybus.Message;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.PublishReceipt;
import io.polybus.spi.Messages;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Group commit: one thread takes every publish queued since its last round (up to {@code maxBatch}
 * messages or 8 MiB, a single larger call whole) and inserts them with one statement in one
 * transaction; each call's future completes after that commit. So {@code publishAll} is always one
 * transaction, concurrent publishers share round trips, and one bus's messages are numbered in the
 * order its publish calls were made (one key's order, from one bus, is publish order).
 *
 * <p>Bound: a call not started within {@code publishTimeout} fails with {@link
 * PolybusTimeoutException}; the statement itself has {@code publishTimeout} as its query timeout.
 *
 * <p>Thread-safe; owned by the backend. The thread starts with the first publish.
 */
final class Publisher implements Runnable {
  private static final long ROUND_BYTES = 8L << 20;

  private record Job(
      String topic,
      List<Message> messages,
      CompletableFuture<List<PublishReceipt>> done,
      long at) {}

  private final Connections pool;
  private final PgSettings settings;
  private final String sql;
  private final String scheduleSql;
  private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private volatile boolean closed;
  private Thread thread;

  Publisher(Connections pool, PgSettings settings) {
    this.pool = pool;
    this.settings = settings;
    this.sql = Sql.bind(Sql.PUBLISH, settings);
    this.scheduleSql = Sql.bind(Sql.SCHEDULE, settings);
  }

  CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    CompletableFuture<List<PublishReceipt>> f = new CompletableFuture<>();
    if (messages.isEmpty()) {
      f.complete(List.of());
      return f;
    }
    synchronized (this) {
      if (closed) {
        f.completeExceptionally(new IllegalStateException("the bus is closed"));
        return f;
      }
      if (thread == null) {
        thread = new Thread(this, "polybus-postgres-publish-" + settings.schema());
        thread.setDaemon(true);
        thread.start();
      }
    }
    queue.add(new Job(topic, messages, f, System.nanoTime()));
    return f;
  }

  @Override
  public void run() {
    List<Job> round = new ArrayList<>();
    while (true) {
      try {
        Job first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (closed) {
            return;
          }
          continue;
        }
        round.add(first);
        int rows = first.messages.size();
        long bytes = size(first);
        Job next;
        while (rows < settings.maxBatch()
            && bytes < ROUND_BYTES
            && (next = queue.peek()) != null
            && rows + next.messages.size() <= Math.max(settings.maxBatch(), 1)
            && bytes + size(next) <= ROUND_BYTES) {
          round.add(queue.poll());
          rows += next.messages.size();
          bytes += size(next);
        }
        send(round, rows);
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
      } finally {
        round.clear();
      }
    }
  }

  private static long size(Job j) {
    long n = 0;
    for (Message m : j.messages) {
      n += Messages.payloadNoCopy(m).length + 64;
    }
    return n;
  }

  private void send(List<Job> round, int rows) {
    long now = System.nanoTime();
    long bound = settings.publishTimeout().toNanos();
    List<Job> live = new ArrayList<>(round.size());
    for (Job j : round) {
      if (now - j.at > bound) {
        j.done.completeExceptionally(
            new PolybusTimeoutException(
                "publish to "
                    + j.topic
                    + " at "
                    + settings.where()
                    + " not started within publishTimeout ("
                    + settings.publishTimeout()
                    + ")"));
        rows -= j.messages.size();
      } else {
        live.add(j);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    try {
      insert(live, rows);
    } catch (SQLException | RuntimeException e) {
      if (live.size() > 1
          && !PgErrors.isConnectionLost(e)
          && !(PgErrors.map(e, "", settings).isTransient())) {
        // Rejected data (a key holding U+0000, say) fails only the call it came with: one
        // transaction per call instead, so other callers of this round are not failed with it.
        for (Job j : live) {
          try {
            insert(List.of(j), j.messages.size());
          } catch (SQLException | RuntimeException e2) {
            fail(List.of(j), j.messages.size(), e2);
          }
        }
        return;
      }
      fail(live, rows, e);
    }
  }

  private void fail(List<Job> jobs, int rows, Exception e) {
    PolybusException p =
        PgErrors.map(e, "publishing " + rows + " message" + (rows == 1 ? "" : "s"), settings);
    jobs.forEach(j -> j.done.completeExceptionally(p));
  }

  /**
   * One transaction for {@code live}'s messages, those with a delay into {@code scheduled}, the
   * others into {@code messages}; completes their futures when it commits.
   */
  private void insert(List<Job> live, int rows) throws SQLException {
    long now = System.currentTimeMillis();
    long[] delay = new long[rows];
    int delayed = 0;
    int i = 0;
    for (Job j : live) {
      for (Message m : j.messages) {
        delay[i] = Messages.delayMillis(m, now);
        if (delay[i++] > 0) {
          delayed++;
        }
      }
    }
    Columns immediate = new Columns(rows - delayed);
    Columns later = new Columns(delayed);
    Long[] delays = new Long[delayed];
    i = 0;
    for (Job j : live) {
      for (Message m : j.messages) {
        if (delay[i] > 0) {
          delays[later.n] = delay[i];
          later.add(j.topic, m);
        } else {
          immediate.add(j.topic, m);
        }
        i++;
      }
    }
    long[] seqs = new long[immediate.n];
    pool.transaction(
        c -> {
          if (immediate.n > 0) {
            insert(
                c,
                immediate.topic,
                immediate.id,
                immediate.key,
                immediate.payload,
                immediate.headers,
                immediate.ts,
                seqs);
          }
          if (later.n > 0) {
            schedule(c, later, delays);
          }
          return null;
        });
    i = 0;
    int s = 0;
    for (Job j : live) {
      List<PublishReceipt> receipts = new ArrayList<>(j.messages.size());
      for (Message m : j.messages) {
        // A scheduled message has no seq until it is due and moved into messages.
        receipts.add(
            new PublishReceipt(j.topic, m.id(), delay[i++] > 0 ? "" : Long.toString(seqs[s++])));
      }
      j.done.complete(receipts);
    }
  }

  /** The columns of some messages of a round, as the statements' arrays. */
  private static final class Columns {
    final String[] topic;
    final String[] id;
    final String[] key;
    final byte[][] payload;
    final String[] headers;
    final Long[] ts;
    int n;

    Columns(int size) {
      topic = new String[size];
      id = new String[size];
      key = new String[size];
      payload = new byte[size][];
      headers = new String[size];
      ts = new Long[size];
    }

    void add(String t, Message m) {
      topic[n] = t;
      id[n] = m.id();
      key[n] = m.key();
      payload[n] = Messages.payloadNoCopy(m);
      headers[n] = HeadersJson.write(m.headers());
      ts[n] = m.timestampMillis();
      n++;
    }
  }

  private void schedule(Connection c, Columns m, Long[] delays) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(scheduleSql)) {
      ps.setQueryTimeout((int) Math.max(1, settings.publishTimeout().toSeconds()));
      ps.setArray(1, c.createArrayOf("text", m.topic));
      ps.setArray(2, c.createArrayOf("int8", delays));
      ps.setArray(3, c.createArrayOf("text", m.id));
      ps.setArray(4, c.createArrayOf("text", m.key));
      ps.setArray(5, c.createArrayOf("bytea", m.payload));
      ps.setArray(6, c.createArrayOf("text", m.headers));
      ps.setArray(7, c.createArrayOf("int8", m.ts));
      ps.executeUpdate();
    }
  }

  private void insert(
      Connection c,
      String[] topic,
      String[] id,
      String[] key,
      byte[][] payload,
      String[] headers,
      Long[] ts,
      long[] seqs)
      throws SQLException {
    Array a1 = c.createArrayOf("text", topic);
    Array a2 = c.createArrayOf("text", id);
    Array a3 = c.createArrayOf("text", key);
    Array a4 = c.createArrayOf("bytea", payload);
    Array a5 = c.createArrayOf("text", headers);
    Array a6 = c.createArrayOf("int8", ts);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setQueryTimeout((int) Math.max(1, settings.publishTimeout().toSeconds()));
      ps.setArray(1, a1);
      ps.setArray(2, a2);
      ps.setArray(3, a3);
      ps.setArray(4, a4);
      ps.setArray(5, a5);
      ps.setArray(6, a6);
      int n = 0;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          seqs[n++] = rs.getLong(1);
        }
      }
      if (n != seqs.length) {
        throw new SQLException("the insert returned " + n + " rows for " + seqs.length, "XX000");
      }
      // Identity values are drawn in the SELECT's order (ORDER BY n); RETURNING's order is not
      // promised, so sort them back.
      java.util.Arrays.sort(seqs);
    }
  }

  /** Stops taking publishes; what is queued is still sent (bounded by publishTimeout). */
  void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      try {
        t.join(settings.publishTimeout().toMillis() + 5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Job j;
    while ((j = queue.poll()) != null) {
      j.done.completeExceptionally(new IllegalStateException("the bus closed before the publish"));
    }
  }
}
