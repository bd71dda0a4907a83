package io.polybus.idempotency.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.idempotency.JdbcProcessedStore;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member killed with SIGKILL after its handler's transaction committed and before its ack reached
 * the broker: the broker hands the message to the next member, which must skip it. N messages, the
 * redelivered one among them, leave exactly N side effects. On log: (a directory shared by two
 * JVMs) and on an SQS standard queue (the message comes back after its visibility timeout).
 */
@Timeout(180)
class KillAfterCommitTest {
  static final Duration AWAIT = Duration.ofSeconds(60);
  static final String SQS_PREFIX = Brokers.sqsPrefix();

  @TempDir Path dir;
  Pg pg;

  @BeforeEach
  void schema() {
    pg = new Pg();
  }

  @AfterEach
  void drop() {
    pg.close();
  }

  @AfterAll
  static void deleteQueues() {
    Brokers.deleteQueues(SQS_PREFIX);
  }

  @Test
  void shouldSkipOnLogTheMessageWhoseMemberWasKilledBetweenCommitAndAck() throws Exception {
    killAfterCommitThenTakeOver("log:" + dir.resolve("log") + "?partitions=2");
  }

  @Test
  void shouldSkipOnSqsTheMessageWhoseMemberWasKilledBetweenCommitAndAck() throws Exception {
    killAfterCommitThenTakeOver(Brokers.sqsUri(SQS_PREFIX));
  }

  private void killAfterCommitThenTakeOver(String uri) throws Exception {
    String topic = "orders";
    String group = "billing";
    // Create the table before the child races the survivor to it.
    JdbcProcessedStore store = pg.store().build();
    Path out = dir.resolve("child.out");
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                CommittedThenKilledChild.class.getName(),
                uri,
                topic,
                group,
                Brokers.JDBC_URL,
                pg.marks(),
                pg.effects(),
                out.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile())
            .start();
    try {
      Await.until(
          AWAIT,
          () -> "the child to subscribe; its log: " + log(),
          () -> lines(out).contains("ready"));
      int n = 20;
      List<Message> messages = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        messages.add(Message.of("order " + i));
      }
      try (Polybus publisher = Polybus.connect(uri)) {
        publisher.publishAllAndWait(topic, messages);
      }
      Await.until(
          AWAIT,
          () -> "the child's first commit; its log: " + log(),
          () -> lines(out).stream().anyMatch(l -> l.startsWith("committed ")));
      String killedId =
          lines(out).stream()
              .filter(l -> l.startsWith("committed "))
              .findFirst()
              .orElseThrow()
              .substring("committed ".length());
      assertThat(pg.effectsOf(killedId)).as("the killed member's committed work").isEqualTo(1);
      child.destroyForcibly().waitFor(); // SIGKILL: the ack never leaves the child
      assertThat(child.exitValue()).as("exit status after SIGKILL").isEqualTo(137);

      AtomicInteger runs = new AtomicInteger();
      Inbox delivered =
          new Inbox(
              store.transactional(
                  (d, c) -> {
                    runs.incrementAndGet();
                    pg.effect(c, d.message().id(), "survivor");
                  }));
      try (Polybus bus = Polybus.connect(uri)) {
        bus.subscribe(
            topic,
            group,
            delivered,
            SubscribeOptions.builder()
                .ordering(Ordering.NONE)
                .ackTimeout(Duration.ofSeconds(2))
                .build());
        delivered.awaitIds(
            List.of(killedId), AWAIT, "the message whose member died between commit and ack");
        Await.until(AWAIT, "a side effect for every message", () -> pg.distinctEffects() == n);
        Await.quietFor(Duration.ofSeconds(3));
      }
      long duplicates = delivered.size() - runs.get();
      System.out.printf(
          "%s: %d messages, %d deliveries to the survivor, %d handler runs, %d skipped as"
              + " duplicates, %d side effects%n",
          uri, n, delivered.size(), runs.get(), duplicates, pg.effectCount());
      assertThat(pg.effectCount()).as("side effects of %d messages", n).isEqualTo(n);
      assertThat(pg.duplicatedEffects()).isEmpty();
      assertThat(pg.markCount()).isEqualTo(n);
      assertThat(delivered.of(killedId))
          .as("redeliveries of the killed member's message")
          .isNotEmpty();
      assertThat(duplicates).as("deliveries skipped by their mark").isGreaterThanOrEqualTo(1);
    } finally {
      child.destroyForcibly().waitFor();
    }
  }

  private String log() {
    return String.join(" | ", lines(dir.resolve("child.log")));
  }

  private static List<String> lines(Path f) {
    try {
      return Files.exists(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
