package io.polybus.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Commit order per key, with writers whose outbox ids are drawn in another order than they commit,
 * and two relays (each with its own pool, so its own database sessions, as two processes would
 * have) forwarding at once.
 *
 * <p>Each writer transaction writes its message first, then takes the next number of its key in an
 * application table ({@code UPDATE ... RETURNING}, a row lock held to the commit), so that number
 * is the transaction's commit rank within its key. Without the outbox's per-key lock, a writer that
 * drew a lower outbox id could commit after one with a higher id, and a relay reading both would
 * send them in id order, against commit order.
 */
@Timeout(60)
class OrderingTest {
  private static Pg pg;

  @BeforeAll
  static void database() {
    pg = new Pg();
  }

  @AfterAll
  static void drop() {
    pg.close();
  }

  @Test
  void shouldForwardEachKeyInCommitOrderWithoutDuplicatesWhileTwoRelaysRunAtOnce()
      throws Exception {
    String table = pg.table("two_relays");
    String ranks = pg.table("ranks");
    String seqs = pg.table("seqs");
    pg.exec("CREATE TABLE " + seqs + " (k text PRIMARY KEY, n int NOT NULL)");
    pg.exec("CREATE TABLE " + ranks + " (message_id text PRIMARY KEY, k text, n int)");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    String uri = "mem:ordering-" + UUID.randomUUID();
    int writers = 8;
    int perWriter = 60;
    int keys = 40;
    try (HikariDataSource pool1 = pg.pool(2);
        HikariDataSource pool2 = pg.pool(3);
        Polybus consumerBus = Polybus.connect(uri);
        Polybus bus1 = Polybus.connect(uri);
        Polybus bus2 = Polybus.connect(uri);
        OutboxRelay relay1 =
            OutboxRelay.builder(pool1, bus1)
                .table(table)
                .batchSize(5)
                .pollInterval(Duration.ofMillis(10))
                .build();
        OutboxRelay relay2 =
            OutboxRelay.builder(pool2, bus2)
                .table(table)
                .concurrency(2) // and two workers inside this one, sharing out shards alike
                .batchSize(5)
                .pollInterval(Duration.ofMillis(10))
                .build()) {
      Inbox inbox = new Inbox();
      consumerBus.subscribe(
          "orders",
          "g",
          inbox,
          SubscribeOptions.builder().ordering(Ordering.KEY).concurrency(4).build());
      relay1.start();
      relay2.start();

      ExecutorService pool = Executors.newFixedThreadPool(writers);
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perWriter; i++) {
                    String key = "customer-" + ThreadLocalRandom.current().nextInt(keys);
                    Message m = Message.of(key, "w" + writer + "-" + i);
                    pg.inTransaction(
                        c -> {
                          outbox.publish(c, "orders", m);
                          pause();
                          int n = nextRank(c, seqs, key);
                          try (PreparedStatement ps =
                              c.prepareStatement("INSERT INTO " + ranks + " VALUES (?, ?, ?)")) {
                            ps.setString(1, m.id());
                            ps.setString(2, key);
                            ps.setInt(3, n);
                            ps.executeUpdate();
                          }
                        });
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
      int total = writers * perWriter;
      inbox.awaitSize(total, Duration.ofSeconds(30), "every committed message");
      Await.quietFor(Duration.ofMillis(500));

      assertThat(inbox.size()).as("no duplicates").isEqualTo(total);
      assertThat(inbox.distinctIds()).hasSize(total);
      Map<String, List<String>> delivered = new HashMap<>();
      for (Message m : inbox.messages()) {
        delivered.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m.id());
      }
      Map<String, List<String>> commitOrder = commitOrder(ranks);
      assertThat(delivered).as("per key, in commit order").isEqualTo(commitOrder);
      assertThat(relay1.forwardedCount() + relay2.forwardedCount()).isEqualTo(total);
      assertThat(relay1.forwardedCount()).as("relay 1 took part").isPositive();
      assertThat(relay2.forwardedCount()).as("relay 2 took part").isPositive();
      assertThat(pg.count("SELECT count(*) FROM " + table)).isZero();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextInt(3));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static int nextRank(Connection c, String seqs, String key) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + seqs
                + " VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET n = "
                + seqs
                + ".n + 1 RETURNING n")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static Map<String, List<String>> commitOrder(String ranks) throws SQLException {
    Map<String, List<String>> out = new HashMap<>();
    try (Connection c = pg.dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT k, message_id FROM " + ranks + " ORDER BY k, n")) {
      while (rs.next()) {
        out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
      }
    }
    return out;
  }
}
