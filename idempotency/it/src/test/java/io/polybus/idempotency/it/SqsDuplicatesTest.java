package io.polybus.idempotency.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Handler;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.idempotency.JdbcProcessedStore;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An SQS standard queue (ElasticMQ), which declares {@code mayDuplicate}: two members handling with
 * the transactional JDBC form, producers republishing a share of the ids while the members work,
 * and one member closing with deliveries in hand (given back to the queue as copies, and received
 * by the other member). However the copies arrive, side by side on two members or one after the
 * other, N messages leave N side effects.
 */
@Timeout(180)
class SqsDuplicatesTest {
  static final Duration AWAIT = Duration.ofSeconds(90);
  static final String PREFIX = Brokers.sqsPrefix();

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
    Brokers.deleteQueues(PREFIX);
  }

  @Test
  void shouldLeaveOneSideEffectPerMessageWhateverCopiesTwoMembersAreHanded() throws Exception {
    JdbcProcessedStore store = pg.store().build();
    int n = 100;
    AtomicInteger runs = new AtomicInteger();
    Handler work =
        store.transactional(
            (d, c) -> {
              runs.incrementAndGet();
              pg.effect(c, d.message().id(), "run");
              Thread.sleep(20); // long enough for copies to overlap
            });
    Inbox deliveredA = new Inbox(work);
    Inbox deliveredB = new Inbox(work);
    SubscribeOptions options =
        SubscribeOptions.builder()
            .ordering(Ordering.NONE)
            .concurrency(4)
            .ackTimeout(Duration.ofSeconds(5))
            .build();
    String uri = Brokers.sqsUri(PREFIX);
    try (Polybus a = Polybus.connect(uri);
        Polybus b = Polybus.connect(uri)) {
      Subscription memberA = a.subscribe("orders", "billing", deliveredA, options);
      b.subscribe("orders", "billing", deliveredB, options);
      List<Message> messages = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        messages.add(Message.of("order " + i));
      }
      a.publishAllAndWait("orders", messages);
      // Producers retrying: 40 of the ids again, from two publishers at once, while the members
      // work through the originals.
      CompletableFuture<?> again1 =
          CompletableFuture.runAsync(() -> a.publishAllAndWait("orders", messages.subList(0, 40)));
      CompletableFuture<?> again2 =
          CompletableFuture.runAsync(() -> b.publishAllAndWait("orders", messages.subList(20, 60)));
      again1.get();
      again2.get();
      // Member A leaves with deliveries in hand; they go back to the queue for member B.
      Await.until(AWAIT, "member A to have handled some", () -> deliveredA.size() >= 10);
      memberA.close();
      Await.until(AWAIT, "a side effect for every message", () -> pg.distinctEffects() == n);
      Await.until(
          AWAIT,
          "every copy delivered (" + (n + 80) + " at least)",
          () -> deliveredA.size() + deliveredB.size() >= n + 80);
      Await.quietFor(Duration.ofSeconds(3));
    }
    int deliveries = deliveredA.size() + deliveredB.size();
    System.out.printf(
        "sqs standard: %d messages + 80 republished copies: %d deliveries (A %d, B %d), %d handler"
            + " runs, %d skipped, %d side effects%n",
        n,
        deliveries,
        deliveredA.size(),
        deliveredB.size(),
        runs.get(),
        deliveries - runs.get(),
        pg.effectCount());
    assertThat(pg.duplicatedEffects()).as("ids with more than one side effect").isEmpty();
    assertThat(pg.effectCount()).as("side effects of %d messages", n).isEqualTo(n);
    assertThat(pg.markCount()).isEqualTo(n);
    assertThat(deliveries - runs.get())
        .as("deliveries skipped by their mark")
        .isGreaterThanOrEqualTo(80);
  }
}
