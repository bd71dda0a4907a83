package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The PostgreSQL backend next to plain JDBC doing the same inserts and selects on the same tables,
 * and next to the Kafka backend, in one run; 100-byte payloads, keys over 1000 keys.
 *
 * <p>Publish, {@code --messages} per side. Raw JDBC: the backend's own multi-row insert ({@code
 * INSERT ... SELECT FROM unnest(...)}, the same columns, a 26-character id and the headers JSON) of
 * 1000 rows per transaction, one connection, each commit waited for. Polybus ({@code postgres://}
 * and {@code kafka://}): {@code publishAll} calls of 1000 messages (construction and id generation
 * included) with at most 8 outstanding, until the last is confirmed.
 *
 * <p>Consume: a topic pre-filled for a group that exists, read until every message was seen. Raw
 * JDBC: the backend's lease statement for 1000 rows, then one {@code DELETE ... seq = ANY(?) AND
 * owner = ?} of those rows (the backend's ack), in a loop on one connection. Polybus: a
 * subscription ({@code Ordering.NONE}, {@code concurrency} 1, {@code maxInFlight} 4096) whose
 * handler acks by returning; for Kafka the same subscription from {@code EARLIEST} on a new group.
 *
 * <p>{@code --warmup} discarded runs, then {@code --runs}; medians and the medians of the per-run
 * ratios are printed. A schema {@code bench_<random>} is created and dropped at the end. Usage:
 * {@code PostgresThroughput [--jdbc jdbc:postgresql://127.0.0.1:5432/test] [--user postgres]
 * [--kafka kafka://127.0.0.1:9092] [--messages 100000] [--runs 5] [--warmup 1]}.
 */
public final class PostgresThroughput {
  private static final int BATCH = 1000;
  private static final int KEYS = 1000;
  private static final byte[] PAYLOAD = new byte[100];

  private static String schema;

  public static void main(String[] args) throws Exception {
    String jdbc = "jdbc:postgresql://127.0.0.1:5432/test";
    String user = "postgres";
    String kafka = "kafka://127.0.0.1:9092";
    int messages = 100_000;
    int runs = 5;
    int warmup = 1;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--jdbc" -> jdbc = v;
        case "--user" -> user = v;
        case "--kafka" -> kafka = v;
        case "--messages" -> messages = Integer.parseInt(v);
        case "--runs" -> runs = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Arrays.fill(PAYLOAD, (byte) 'x');
    schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String hostPart = jdbc.substring("jdbc:postgresql://".length());
    String uri = "postgres://" + user + "@" + hostPart + "?schema=" + schema + "&retention=0";
    String[] names = {
      "raw publish", "pg publish", "kafka publish", "raw consume", "pg consume", "kafka consume"
    };
    double[][] results = new double[6][runs];
    try (Connection raw = DriverManager.getConnection(jdbc, user, "");
        Polybus bus = Polybus.connect(uri);
        Polybus kbus = Polybus.connect(kafka)) {
      String run = UUID.randomUUID().toString().substring(0, 6);
      for (int r = -warmup; r < runs; r++) {
        String t = "bench-" + run + "-" + (r + warmup);
        double[] x = {
          rawPublish(raw, t + "-raw-pub", messages),
          busPublish(bus, t + "-pg-pub", messages),
          busPublish(kbus, t + "-kafka-pub", messages),
          rawConsume(raw, t + "-raw-sub", messages),
          busConsume(bus, t + "-pg-sub", messages, false),
          busConsume(kbus, t + "-kafka-sub", messages, true)
        };
        System.out.printf(
            Locale.ROOT,
            "%s publish raw %,.0f pg %,.0f kafka %,.0f | consume raw %,.0f pg %,.0f kafka %,.0f msg/s%n",
            r < 0 ? "warm-up" : "run " + (r + 1),
            x[0],
            x[1],
            x[2],
            x[3],
            x[4],
            x[5]);
        if (r >= 0) {
          for (int i = 0; i < 6; i++) {
            results[i][r] = x[i];
          }
        }
        try (Statement st = raw.createStatement()) {
          st.execute("TRUNCATE \"" + schema + "\".messages, \"" + schema + "\".deliveries");
        }
      }
    } finally {
      try (Connection c = DriverManager.getConnection(jdbc, user, "");
          Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
      }
    }
    double[] m = new double[6];
    for (int i = 0; i < 6; i++) {
      m[i] = Stats.median(results[i]);
      System.out.printf(Locale.ROOT, "median %s: %,.0f msg/s%n", names[i], m[i]);
    }
    System.out.printf(
        Locale.ROOT,
        "publish: pg/raw %.2f (median of per-run ratios %.2f), pg/kafka %.2f%n",
        m[1] / m[0],
        Stats.medianRatio(results[1], results[0]),
        m[1] / m[2]);
    System.out.printf(
        Locale.ROOT,
        "consume: pg/raw %.2f (median of per-run ratios %.2f), pg/kafka %.2f%n",
        m[4] / m[3],
        Stats.medianRatio(results[4], results[3]),
        m[4] / m[5]);
  }

  /** The backend's publish statement (io.polybus.postgres.Sql.PUBLISH) for the bench schema. */
  private static String insertSql() {
    return "INSERT INTO \""
        + schema
        + "\".messages (topic, id, msg_key, payload, headers, ts)"
        + " SELECT t, i, k, p, h::jsonb, ts"
        + " FROM unnest(?::text[], ?::text[], ?::text[], ?::bytea[], ?::text[], ?::bigint[])"
        + " WITH ORDINALITY AS u(t, i, k, p, h, ts, n) ORDER BY n RETURNING seq";
  }

  private static void rawInsert(Connection c, String topic, int n) throws Exception {
    c.setAutoCommit(false);
    try (PreparedStatement ps = c.prepareStatement(insertSql())) {
      for (int done = 0; done < n; done += BATCH) {
        int k = Math.min(BATCH, n - done);
        String[] t = new String[k];
        String[] id = new String[k];
        String[] key = new String[k];
        byte[][] p = new byte[k][];
        String[] h = new String[k];
        Long[] ts = new Long[k];
        for (int i = 0; i < k; i++) {
          t[i] = topic;
          id[i] = String.format(Locale.ROOT, "%026d", done + i);
          key[i] = "k" + ((done + i) % KEYS);
          p[i] = PAYLOAD;
          h[i] = "[]";
          ts[i] = System.currentTimeMillis();
        }
        ps.setArray(1, c.createArrayOf("text", t));
        ps.setArray(2, c.createArrayOf("text", id));
        ps.setArray(3, c.createArrayOf("text", key));
        ps.setArray(4, c.createArrayOf("bytea", p));
        ps.setArray(5, c.createArrayOf("text", h));
        ps.setArray(6, c.createArrayOf("int8", ts));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rs.getLong(1);
          }
        }
        c.commit();
      }
    } finally {
      c.setAutoCommit(true);
    }
  }

  private static double rawPublish(Connection c, String topic, int n) throws Exception {
    long start = System.nanoTime();
    rawInsert(c, topic, n);
    return n / ((System.nanoTime() - start) / 1e9);
  }

  private static double busPublish(Polybus bus, String topic, int n) throws Exception {
    long start = System.nanoTime();
    fill(bus, topic, n);
    return n / ((System.nanoTime() - start) / 1e9);
  }

  private static void fill(Polybus bus, String topic, int n) throws Exception {
    List<CompletableFuture<?>> outstanding = new ArrayList<>();
    for (int done = 0; done < n; done += BATCH) {
      List<Message> batch = new ArrayList<>(BATCH);
      for (int i = 0; i < BATCH && done + i < n; i++) {
        batch.add(Message.builder().key("k" + ((done + i) % KEYS)).payload(PAYLOAD).build());
      }
      outstanding.add(bus.publishAll(topic, batch));
      if (outstanding.size() >= 8) {
        outstanding.remove(0).get();
      }
    }
    for (CompletableFuture<?> f : outstanding) {
      f.get();
    }
  }

  private static double rawConsume(Connection c, String topic, int n) throws Exception {
    int gid;
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO \"" + schema + "\".groups (topic, grp) VALUES (?, 'g') RETURNING gid")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        gid = rs.getInt(1);
      }
    }
    rawInsert(c, topic, n);
    String s = "\"" + schema + "\"";
    String lease =
        "WITH c AS (SELECT seq FROM "
            + s
            + ".deliveries"
            + " WHERE gid = ? AND visible_at <= now() ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)"
            + " UPDATE "
            + s
            + ".deliveries d SET owner = ?,"
            + " visible_at = now() + ? * interval '1 millisecond', attempts = d.attempts + 1"
            + " FROM c JOIN "
            + s
            + ".messages m ON m.seq = c.seq"
            + " WHERE d.gid = ? AND d.seq = c.seq"
            + " RETURNING d.seq, d.attempts, m.id, m.msg_key, m.payload, m.headers, m.ts";
    String ack = "DELETE FROM " + s + ".deliveries WHERE gid = ? AND seq = ANY(?) AND owner = ?";
    long start = System.nanoTime();
    int seen = 0;
    try (PreparedStatement l = c.prepareStatement(lease);
        PreparedStatement a = c.prepareStatement(ack)) {
      while (seen < n) {
        l.setInt(1, gid);
        l.setInt(2, BATCH);
        l.setString(3, "raw");
        l.setLong(4, 30_000);
        l.setInt(5, gid);
        List<Long> seqs = new ArrayList<>(BATCH);
        try (ResultSet rs = l.executeQuery()) {
          while (rs.next()) {
            seqs.add(rs.getLong(1));
            rs.getString(3);
            rs.getString(4);
            rs.getBytes(5);
            rs.getString(6);
            rs.getLong(7);
          }
        }
        a.setInt(1, gid);
        a.setArray(2, c.createArrayOf("int8", seqs.toArray()));
        a.setString(3, "raw");
        a.executeUpdate();
        seen += seqs.size();
      }
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  private static double busConsume(Polybus bus, String topic, int n, boolean earliest)
      throws Exception {
    if (!earliest) {
      bus.subscribe(topic, "g", d -> {}).close(); // the group exists before the fill
    }
    fill(bus, topic, n);
    CountDownLatch all = new CountDownLatch(1);
    AtomicLong seen = new AtomicLong();
    long start = System.nanoTime();
    Subscription s =
        bus.subscribe(
            topic,
            "g",
            d -> {
              if (seen.incrementAndGet() == n) {
                all.countDown();
              }
            },
            SubscribeOptions.builder()
                .startFrom(StartFrom.EARLIEST)
                .ordering(Ordering.NONE)
                .maxInFlight(4096)
                .build());
    if (!all.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("only " + seen.get() + " of " + n + " consumed");
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    s.close();
    return rate;
  }
}
