package io.polybus.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The relay's database sessions killed under it ({@code pg_terminate_backend}) again and again
 * while it forwards: each kill aborts the relay's transaction, so nothing is deleted that was not
 * committed after its confirmation; the relay backs off, reconnects and goes on. Every message
 * arrives, per key the first copies in commit order, and a message arrives twice only if its
 * batch's delete was lost after the broker confirmed it, with the same id.
 */
@Timeout(60)
class DatabaseFailureTest {
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
  void shouldLoseNothingAndKeepKeyOrderWhenTheRelaysSessionsAreKilledRepeatedly() throws Exception {
    String table = pg.table("killed_sessions");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    List<Message> written = new ArrayList<>();
    for (int t = 0; t < 50; t++) {
      List<Message> tx = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        tx.add(Message.of("k" + (i % 20), "m" + (t * 20 + i)));
      }
      pg.inTransaction(c -> outbox.publishAll(c, "orders", tx));
      written.addAll(tx);
    }
    String app = "outbox-relay-" + UUID.randomUUID().toString().substring(0, 8);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(Pg.JDBC_URL + "&ApplicationName=" + app);
    config.setMaximumPoolSize(2);
    try (HikariDataSource relayPool = new HikariDataSource(config);
        Polybus bus = Polybus.connect("mem:db-failure-" + UUID.randomUUID());
        OutboxRelay relay =
            OutboxRelay.builder(relayPool, bus)
                .table(table)
                .batchSize(5)
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build()) {
      Inbox inbox = new Inbox();
      bus.subscribe(
          "orders", "g", inbox, SubscribeOptions.builder().ordering(Ordering.KEY).build());
      relay.start();
      int kills = 0;
      // A kill every 200 ms leaves the relay time to reconnect and commit some batches between
      // kills (kill faster and it never gets a batch through); until half arrived, at most 5 s.
      long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (inbox.distinctIds().size() < written.size() / 2 && System.nanoTime() < until) {
        Thread.sleep(200);
        kills +=
            (int)
                pg.count(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        + " WHERE application_name = '"
                        + app
                        + "'");
      }
      inbox.awaitIds(
          written.stream().map(Message::id).toList(),
          Duration.ofSeconds(30),
          "every message after " + kills + " killed sessions");
      Await.until(
          Duration.ofSeconds(10),
          "the outbox emptied",
          () -> pg.count("SELECT count(*) FROM " + table) == 0);
      Await.quietFor(Duration.ofMillis(300));
      assertThat(kills).as("sessions killed").isPositive();
      assertThat(relay.failureCount()).as("failures seen and retried").isPositive();

      Map<String, Integer> copies = new HashMap<>();
      inbox.ids().forEach(id -> copies.merge(id, 1, Integer::sum));
      assertThat(copies.keySet()).hasSize(written.size());
      assertThat(copies.values()).allMatch(n -> n <= 2);
      Map<String, List<String>> expected = new LinkedHashMap<>();
      written.forEach(m -> expected.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m.id()));
      Map<String, List<String>> firstCopies = new LinkedHashMap<>();
      Set<String> seen = new LinkedHashSet<>();
      for (Message m : inbox.messages()) {
        if (seen.add(m.id())) {
          firstCopies.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m.id());
        }
      }
      assertThat(firstCopies).isEqualTo(expected);
      System.out.printf(
          "database failure test: %d sessions killed, %d failures, %d messages, %d delivered%n",
          kills, relay.failureCount(), written.size(), inbox.size());
    }
  }
}
