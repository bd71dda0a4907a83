package io.polybus.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The broker stopped under a running relay: rows wait (nothing deleted, lag grows, failures
 * counted), and once it is back they flow, in order per key. The broker is a private {@code
 * redis-server} on a free port that keeps nothing on disk (never the shared one), stopped and
 * started again on the same port.
 */
@Timeout(90)
class BrokerDownTest {
  private static Pg pg;
  private Process server;
  private Path dir;

  @BeforeAll
  static void database() {
    pg = new Pg();
  }

  @AfterAll
  static void drop() {
    pg.close();
  }

  @AfterEach
  void stopServer() throws IOException {
    if (server != null) {
      server.destroyForcibly();
    }
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private void startServer(int port) throws IOException {
    server =
        new ProcessBuilder(
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile()))
            .start();
    Await.until(
        Duration.ofSeconds(10),
        "redis-server answering on " + port,
        () -> {
          try (var s = new java.net.Socket("127.0.0.1", port)) {
            return true;
          } catch (IOException e) {
            return false;
          }
        });
  }

  @Test
  void shouldKeepRowsWhileTheBrokerIsDownAndForwardThemInKeyOrderWhenItIsBack() throws Exception {
    dir = Files.createTempDirectory("polybus-outbox-redis");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    startServer(port);
    String table = pg.table("broker_down");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    try (Polybus bus =
            Polybus.connect(
                "redis://127.0.0.1:" + port + "?partitions=4&timeout=500ms&publishTimeout=2s");
        OutboxRelay relay =
            OutboxRelay.builder(pg.dataSource, bus)
                .table(table)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .publishTimeout(Duration.ofSeconds(5))
                .build()
                .start()) {
      Inbox before = new Inbox();
      bus.subscribe("orders", "before", before);
      List<Message> first = write(outbox, 0, 20);
      before.awaitIds(
          first.stream().map(Message::id).toList(), Duration.ofSeconds(10), "before the stop");

      server.destroy();
      assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
      List<Message> waiting = write(outbox, 20, 200);
      Thread.sleep(2000);
      OutboxLag lag = relay.lag();
      assertThat(lag.pending()).as("nothing deleted while the broker is down").isEqualTo(200);
      assertThat(lag.oldestPendingAge()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
      assertThat(relay.failureCount()).as("attempts made and failed").isPositive();
      assertThat(relay.parkedCount()).as("a broker that is down parks nothing").isZero();

      long forwardedBefore = relay.forwardedCount();
      startServer(port);
      // The restarted Redis kept nothing, so a new group from the stream's start sees exactly
      // what was published after the restart: the waiting rows.
      Inbox after = new Inbox();
      bus.subscribe(
          "orders",
          "after",
          after,
          SubscribeOptions.builder().ordering(Ordering.KEY).startFrom(StartFrom.EARLIEST).build());
      after.awaitIds(
          waiting.stream().map(Message::id).toList(),
          Duration.ofSeconds(30),
          "the rows that waited, after the restart");
      Await.until(
          Duration.ofSeconds(10),
          "the outbox emptied",
          () -> pg.count("SELECT count(*) FROM " + table) == 0);
      assertThat(relay.forwardedCount() - forwardedBefore).isEqualTo(200);
      assertThat(after.size()).as("no duplicates").isEqualTo(200);
      assertThat(byKey(after.messages())).isEqualTo(byKey(waiting));
    }
  }

  /** {@code n} messages over 5 keys, one transaction per 10. */
  private static List<Message> write(Outbox outbox, int from, int n) throws Exception {
    List<Message> all = new ArrayList<>();
    for (int t = 0; t < n; t += 10) {
      List<Message> tx = new ArrayList<>();
      for (int i = t; i < t + 10 && i < n; i++) {
        tx.add(Message.of("k" + (i % 5), "m" + (from + i)));
      }
      pg.inTransaction(c -> outbox.publishAll(c, "orders", tx));
      all.addAll(tx);
    }
    return all;
  }

  private static Map<String, List<String>> byKey(List<Message> messages) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Message m : messages) {
      out.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m.id());
    }
    return new java.util.TreeMap<>(out);
  }
}
