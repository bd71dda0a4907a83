package io.polybus.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.outbox.Outbox;
import io.polybus.outbox.OutboxRelay;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * Throughput of the transactional outbox's relay ({@code polybus-outbox}) into {@code log:} and
 * into Kafka, over PostgreSQL at {@code --jdbc} through a HikariCP pool.
 *
 * <p>Each run: a fresh outbox table in a schema of its own (dropped at the end) is filled with
 * {@code --messages} rows (100-byte payloads, keys over 1000 keys, {@code publishAll} of 100 per
 * transaction: that rate is printed too), then a relay is started and timed until the table is
 * empty: every row published, confirmed by the broker and deleted. A fresh topic per run (Kafka's
 * deleted afterwards). For each target and each {@code --concurrency} (relay worker threads),
 * {@code --warmup} discarded runs, then {@code --runs}; the median, min and max are printed.
 *
 * <p>{@code OutboxRelayThroughput [--jdbc jdbc:postgresql://127.0.0.1:5432/test?user=postgres]
 * [--kafka kafka://127.0.0.1:9092] [--targets log,kafka] [--messages 50000] [--batch 500]
 * [--concurrency 1,4] [--runs 5] [--warmup 1]}.
 */
public final class OutboxRelayThroughput {
  private static final int KEYS = 1000;
  private static final byte[] PAYLOAD = new byte[100];

  private OutboxRelayThroughput() {}

  public static void main(String[] args) throws Exception {
    String jdbc = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    String kafka = "kafka://127.0.0.1:9092";
    List<String> targets = List.of("log", "kafka");
    int messages = 50_000;
    int batch = 500;
    int[] concurrency = {1, 4};
    int runs = 5;
    int warmup = 1;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--jdbc" -> jdbc = v;
        case "--kafka" -> kafka = v;
        case "--targets" -> targets = List.of(v.split(","));
        case "--messages" -> messages = Integer.parseInt(v);
        case "--batch" -> batch = Integer.parseInt(v);
        case "--concurrency" ->
            concurrency = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--runs" -> runs = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbc);
    config.setMaximumPoolSize(8);
    String schema = "outbox_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    List<String> rows = new ArrayList<>();
    try (HikariDataSource ds = new HikariDataSource(config)) {
      exec(ds, "CREATE SCHEMA " + schema);
      try {
        for (String target : targets) {
          for (int c : concurrency) {
            double[] relay = new double[runs];
            double[] write = new double[runs];
            for (int r = -warmup; r < runs; r++) {
              double[] one = run(ds, schema, target, kafka, messages, batch, c);
              if (r >= 0) {
                write[r] = one[0];
                relay[r] = one[1];
              }
              System.out.printf(
                  Locale.ROOT,
                  "%s concurrency %d run %d%s: write %,.0f msg/s, relay %,.0f msg/s%n",
                  target,
                  c,
                  r,
                  r < 0 ? " (warm-up)" : "",
                  one[0],
                  one[1]);
            }
            Arrays.sort(relay);
            Arrays.sort(write);
            rows.add(
                String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.0f | %,.0f | %,.0f | %,.0f |",
                    target,
                    c,
                    relay[runs / 2],
                    relay[0],
                    relay[runs - 1],
                    write[runs / 2]));
          }
        }
      } finally {
        exec(ds, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%n%,d messages per run, batch %d, %d runs (median, min, max of the relay; median of the"
            + " writes)%n",
        messages,
        batch,
        runs);
    System.out.println(
        "| target | relay threads | relay msg/s (median) | min | max | write msg/s (median) |");
    System.out.println("|---|---|---|---|---|---|");
    rows.forEach(System.out::println);
  }

  /** One run: {write msg/s, relay msg/s}. */
  private static double[] run(
      HikariDataSource ds,
      String schema,
      String target,
      String kafka,
      int messages,
      int batch,
      int concurrency)
      throws Exception {
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String table = schema + ".outbox_" + suffix;
    String topic = "outbox-bench-" + suffix;
    Outbox outbox = Outbox.builder().table(table).createTable(ds).build();
    List<Message> all = new ArrayList<>(messages);
    for (int i = 0; i < messages; i++) {
      all.add(Message.builder().key("k" + (i % KEYS)).payload(PAYLOAD).build());
    }
    long w0 = System.nanoTime();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < messages; i += 100) {
        outbox.publishAll(c, topic, all.subList(i, Math.min(messages, i + 100)));
        c.commit();
      }
    }
    double writeRate = messages / ((System.nanoTime() - w0) / 1e9);

    Path dir = null;
    String uri;
    if (target.equals("log")) {
      dir = Files.createTempDirectory("outbox-bench");
      uri = "log:" + dir;
    } else {
      uri = kafka;
    }
    double relayRate;
    try (Polybus bus = Polybus.connect(uri)) {
      if (target.equals("kafka")) {
        // Create the topic before the clock starts: creation is not the relay's throughput.
        bus.publishAndWait(topic, Message.of("x"));
      }
      try (OutboxRelay relay =
          OutboxRelay.builder(ds, bus)
              .table(table)
              .batchSize(batch)
              .concurrency(concurrency)
              .pollInterval(Duration.ofMillis(5))
              .createTable(false)
              .build()) {
        long r0 = System.nanoTime();
        relay.start();
        while (relay.lag().pending() > 0) {
          Thread.sleep(5);
        }
        relayRate = messages / ((System.nanoTime() - r0) / 1e9);
      }
    } finally {
      if (dir != null) {
        try (var files = Files.walk(dir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      exec(ds, "DROP TABLE IF EXISTS " + table);
    }
    if (target.equals("kafka")) {
      try (Admin admin =
          Admin.create(Map.of("bootstrap.servers", kafka.substring("kafka://".length())))) {
        admin.deleteTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
      }
    }
    return new double[] {writeRate, relayRate};
  }

  private static void exec(HikariDataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
