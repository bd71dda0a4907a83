package io.polybus.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relay in a child JVM killed with SIGKILL after the broker ({@code log:}, shared by both
 * processes) confirmed a batch and before the relay deleted its rows: a relay in this JVM takes
 * over and publishes that batch again. Each of its messages arrives at most twice, with the same
 * id; nothing else is duplicated or lost, and per key the first copies are in commit order.
 */
@Timeout(90)
class RelayCrashTest {
  private static Pg pg;

  @TempDir Path dir;

  @BeforeAll
  static void database() {
    pg = new Pg();
  }

  @AfterAll
  static void drop() {
    pg.close();
  }

  @Test
  void shouldDuplicateOnlyTheConfirmedButUndeletedBatchOnceWithTheSameIdsAfterSigkill()
      throws Exception {
    String table = pg.table("crash");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    Path logDir = Files.createDirectories(dir.resolve("log"));
    int total = 300;
    int batch = 10;
    List<Message> written = new ArrayList<>();
    for (int t = 0; t < total / 10; t++) {
      List<Message> tx = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        tx.add(Message.of("k" + (i % 10), "m" + (t * 10 + i)));
      }
      pg.inTransaction(c -> outbox.publishAll(c, "orders", tx));
      written.addAll(tx);
    }

    try (Polybus bus = Polybus.connect("log:" + logDir)) {
      Inbox inbox = new Inbox();
      bus.subscribe(
          "orders",
          "g",
          inbox,
          SubscribeOptions.builder().ordering(Ordering.KEY).startFrom(StartFrom.EARLIEST).build());

      Path out = dir.resolve("child.log");
      Process child =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-Xmx256m",
                  "-cp",
                  System.getProperty("java.class.path"),
                  RelayChild.class.getName(),
                  Pg.JDBC_URL,
                  table,
                  logDir.toString(),
                  Integer.toString(batch),
                  "3")
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      List<String> confirmed;
      try {
        Await.until(
            Duration.ofSeconds(30),
            "the child's third batch confirmed",
            () -> read(out).contains("CONFIRMED "));
        String line =
            read(out).lines().filter(l -> l.startsWith("CONFIRMED ")).findFirst().orElseThrow();
        confirmed = List.of(line.substring("CONFIRMED ".length()).strip().split(","));
        // The rows of the confirmed batch are still in the table: the child hangs before delete.
        assertThat(pg.count("SELECT count(*) FROM " + table)).isEqualTo(total - 2L * batch);
      } finally {
        child.destroyForcibly(); // SIGKILL on Linux
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);
      assertThat(confirmed).hasSize(batch);

      try (OutboxRelay survivor =
          OutboxRelay.builder(pg.dataSource, bus).table(table).batchSize(batch).build().start()) {
        inbox.awaitIds(
            written.stream().map(Message::id).toList(),
            Duration.ofSeconds(30),
            "every message after the takeover");
        Await.until(
            Duration.ofSeconds(10),
            "the outbox emptied",
            () -> pg.count("SELECT count(*) FROM " + table) == 0);
        Await.quietFor(Duration.ofMillis(500));
      }

      Map<String, Integer> copies = new HashMap<>();
      inbox.ids().forEach(id -> copies.merge(id, 1, Integer::sum));
      Set<String> duplicated = new LinkedHashSet<>();
      copies.forEach(
          (id, n) -> {
            if (n > 1) {
              duplicated.add(id);
            }
          });
      System.out.printf(
          "crash test: %d written, %d delivered, %d duplicates (%d ids delivered twice), all from"
              + " the batch confirmed before the kill: %s%n",
          total,
          inbox.size(),
          inbox.size() - total,
          duplicated.size(),
          duplicated.equals(new LinkedHashSet<>(confirmed)));
      assertThat(copies.keySet()).hasSize(total);
      assertThat(copies.values()).allMatch(n -> n <= 2);
      assertThat(duplicated).containsExactlyInAnyOrderElementsOf(confirmed);
      assertThat(inbox.size()).isEqualTo(total + batch);

      // Per key, the first copies arrive in commit order (the order written here).
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
    }
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "";
    }
  }
}
