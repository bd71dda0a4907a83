package io.polybus.idempotency.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RedriveResult;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.idempotency.JdbcProcessedStore;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transactional form of {@link JdbcProcessedStore} over mem: and the machine's PostgreSQL: the
 * mark and the handler's own rows commit together or not at all.
 */
@Timeout(120)
class TransactionalHandlerTest {
  static final Duration AWAIT = Duration.ofSeconds(30);
  static final RetryPolicy FAST =
      RetryPolicy.builder()
          .maxAttempts(5)
          .initialBackoff(Duration.ofMillis(10))
          .multiplier(1)
          .jitter(0)
          .build();

  Pg pg;

  @BeforeEach
  void schema() {
    pg = new Pg();
  }

  @AfterEach
  void drop() {
    pg.close();
  }

  @Test
  void shouldRollBackAFailedAttemptLeavingNeitherMarkNorWorkAndRetryIt() {
    JdbcProcessedStore store = pg.store().build();
    AtomicInteger calls = new AtomicInteger();
    try (Polybus bus = Polybus.connect("mem:")) {
      Inbox delivered =
          new Inbox(
              store.transactional(
                  (d, c) -> {
                    calls.incrementAndGet();
                    pg.effect(c, d.message().id(), "attempt " + d.attempt());
                    if (d.attempt() == 1) {
                      throw new IllegalStateException(
                          "test: the first attempt fails after writing");
                    }
                    if (d.attempt() == 2) {
                      d.retry(Duration.ZERO); // settling as failed rolls back too
                    }
                  }));
      bus.subscribe(
          "orders", "billing", delivered, SubscribeOptions.builder().retryPolicy(FAST).build());
      Message m = Message.of("order 1");
      bus.publishAndWait("orders", m);
      delivered.awaitSize(3, AWAIT, "three attempts");
      Await.until(AWAIT, "the third attempt's commit", () -> pg.markCount() == 1);
      assertThat(pg.effectCount())
          .as("side-effect rows: attempts 1 and 2 rolled back")
          .isEqualTo(1);
      assertThat(pg.count("SELECT count(*) FROM " + pg.effects() + " WHERE note = 'attempt 3'"))
          .isEqualTo(1);
      assertThat(store.isProcessed("billing", m.id())).isTrue();

      // Republished with the same id: acked without the handler.
      bus.publishAndWait("orders", m);
      delivered.awaitSize(4, AWAIT, "the republished copy");
      Await.quietFor(Duration.ofMillis(500));
      assertThat(calls.get()).as("handler calls").isEqualTo(3);
      assertThat(pg.effectCount()).isEqualTo(1);
    }
  }

  @Test
  void shouldLeaveNeitherMarkNorWorkWhenTheCommitItselfFails() {
    // A deferred unique constraint is checked at COMMIT: the handler's statements succeed, the
    // commit fails, and the mark must go with the work.
    pg.exec(
        "CREATE TABLE "
            + pg.schema
            + ".ledger (entry text, CONSTRAINT one_entry UNIQUE (entry) DEFERRABLE INITIALLY DEFERRED)");
    JdbcProcessedStore store = pg.store().build();
    try (Polybus bus = Polybus.connect("mem:")) {
      ConcurrentLinkedQueue<Long> marksAfterFailedCommit = new ConcurrentLinkedQueue<>();
      Inbox delivered =
          new Inbox(
              store.transactional(
                  (d, c) -> {
                    if (d.attempt() == 2) {
                      marksAfterFailedCommit.add(pg.markCount());
                    }
                    try (Statement s = c.createStatement()) {
                      s.execute("INSERT INTO " + pg.schema + ".ledger VALUES ('e')");
                      if (d.attempt() == 1) {
                        s.execute("INSERT INTO " + pg.schema + ".ledger VALUES ('e')");
                      }
                    }
                    pg.effect(c, d.message().id(), "attempt " + d.attempt());
                  }));
      bus.subscribe(
          "orders", "billing", delivered, SubscribeOptions.builder().retryPolicy(FAST).build());
      Message m = Message.of("order 1");
      bus.publishAndWait("orders", m);
      Await.until(AWAIT, "the second attempt's commit", () -> pg.markCount() == 1);
      assertThat(marksAfterFailedCommit)
          .as("marks seen by attempt 2, after attempt 1's commit failed")
          .containsExactly(0L);
      assertThat(pg.effectCount()).isEqualTo(1);
      assertThat(pg.count("SELECT count(*) FROM " + pg.schema + ".ledger")).isEqualTo(1);
    }
  }

  @Test
  void shouldRunOneOfManyConcurrentCopiesWhileTheOthersWaitOnTheMarksRowLock() {
    JdbcProcessedStore store = pg.store().build();
    AtomicInteger calls = new AtomicInteger();
    try (Polybus bus = Polybus.connect("mem:")) {
      Inbox delivered =
          new Inbox(
              store.transactional(
                  (d, c) -> {
                    calls.incrementAndGet();
                    pg.effect(c, d.message().id(), "run");
                    Thread.sleep(500); // the copies arrive and block on the mark meanwhile
                  }));
      bus.subscribe(
          "orders",
          "billing",
          delivered,
          SubscribeOptions.builder().ordering(Ordering.NONE).concurrency(4).build());
      Message m = Message.of("copied");
      bus.publishAllAndWait("orders", List.of(m, m, m, m));
      delivered.awaitSize(4, AWAIT, "four copies");
      Await.until(AWAIT, "every copy settled", () -> pg.markCount() == 1);
      Await.quietFor(Duration.ofMillis(500));
      assertThat(calls.get()).as("handler calls for four concurrent copies").isEqualTo(1);
      assertThat(pg.effectCount()).isEqualTo(1);
      assertThat(delivered.received()).allSatisfy(r -> assertThat(r.attempt()).isEqualTo(1));
    }
  }

  @Test
  void shouldRetryACopyThatWaitedLongerThanTheLockTimeoutAndThenSkipIt() {
    JdbcProcessedStore store =
        pg.store()
            .lockTimeout(Duration.ofMillis(200))
            .busyRetryDelay(Duration.ofMillis(100))
            .build();
    AtomicInteger calls = new AtomicInteger();
    try (Polybus bus = Polybus.connect("mem:")) {
      Inbox delivered =
          new Inbox(
              store.transactional(
                  (d, c) -> {
                    calls.incrementAndGet();
                    pg.effect(c, d.message().id(), "run");
                    Thread.sleep(1000);
                  }));
      bus.subscribe(
          "orders",
          "billing",
          delivered,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .concurrency(2)
              .retryPolicy(RetryPolicy.builder().maxAttempts(20).jitter(0).build())
              .build());
      Message m = Message.of("slow");
      bus.publishAllAndWait("orders", List.of(m, m));
      Await.until(AWAIT, "the copy retried, then skipped", () -> pg.markCount() == 1);
      Await.quietFor(Duration.ofMillis(1500));
      assertThat(calls.get()).as("handler calls").isEqualTo(1);
      assertThat(pg.effectCount()).isEqualTo(1);
      assertThat(delivered.received())
          .as("deliveries: the copy retried while the first ran")
          .anySatisfy(r -> assertThat(r.attempt()).isGreaterThan(1));
    }
  }

  @Test
  void shouldSkipARedrivenDeadLetterOfAMessageProcessedMeanwhile() {
    JdbcProcessedStore store = pg.store().build();
    AtomicBoolean downstreamDown = new AtomicBoolean(true);
    try (Polybus bus = Polybus.connect("mem:")) {
      Inbox delivered =
          new Inbox(
              store.transactional(
                  (d, c) -> {
                    if (downstreamDown.get()) {
                      throw new IllegalStateException("test: downstream down");
                    }
                    pg.effect(c, d.message().id(), "handled");
                  }));
      bus.subscribe(
          "orders",
          "billing",
          delivered,
          SubscribeOptions.builder().retryPolicy(RetryPolicy.none()).build());
      Inbox dead = new Inbox();
      String dlq = "orders.billing.dlq";
      List<Message> messages = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        messages.add(Message.of("order " + i));
      }
      // Watch the dead letters from a group of our own, leaving them to the dlq group.
      bus.subscribe(dlq, "watch", dead, SubscribeOptions.defaults());
      bus.publishAllAndWait("orders", messages);
      dead.awaitSize(5, AWAIT, "five dead letters");
      // The downstream is back; the producer republishes three of them (same ids): processed.
      downstreamDown.set(false);
      bus.publishAllAndWait("orders", messages.subList(0, 3));
      Await.until(AWAIT, "three processed", () -> pg.effectCount() == 3);
      // Then an operator redrives all five: two are new work, three are duplicates.
      int before = delivered.size();
      RedriveResult redriven = bus.redrive(dlq, Duration.ofMillis(500));
      assertThat(redriven.republished()).isEqualTo(5);
      delivered.awaitSize(before + 5, AWAIT, "the five redriven messages");
      Await.until(AWAIT, "all five processed", () -> pg.effectCount() == 5);
      Await.quietFor(Duration.ofMillis(500));
      assertThat(pg.effectCount()).as("side effects of 5 messages, 3 redriven twice").isEqualTo(5);
      assertThat(pg.distinctEffects()).isEqualTo(5);
      assertThat(pg.duplicatedEffects()).isEmpty();
    }
  }

  @Test
  void shouldDecodeThenRunATypedHandlerInTheTransaction() {
    JdbcProcessedStore store = pg.store().build();
    try (Polybus bus = Polybus.connect("mem:")) {
      ConcurrentLinkedQueue<Integer> values = new ConcurrentLinkedQueue<>();
      bus.subscribe(
          "numbers",
          "sum",
          new DecimalCodec(),
          store.<Integer>typedTransactional(
              (value, d, c) -> {
                values.add(value);
                pg.effect(c, d.message().id(), Integer.toString(value));
              }),
          SubscribeOptions.defaults());
      Message m = Message.of("42");
      bus.publishAndWait("numbers", m);
      bus.publishAndWait("numbers", m);
      Await.until(AWAIT, "the value handled", () -> pg.effectCount() == 1);
      Await.quietFor(Duration.ofMillis(500));
      assertThat(values).containsExactly(42);
      assertThat(pg.effectCount()).isEqualTo(1);
    }
  }

  /** Integers as decimal text. */
  static final class DecimalCodec implements io.polybus.Codec<Integer> {
    @Override
    public String contentType() {
      return "text/plain";
    }

    @Override
    public String typeName() {
      return "decimal";
    }

    @Override
    public byte[] encode(Integer value) {
      return value.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public Integer decode(byte[] payload, String contentType, String typeName) {
      try {
        return Integer.valueOf(new String(payload, java.nio.charset.StandardCharsets.UTF_8));
      } catch (NumberFormatException e) {
        throw new io.polybus.CodecException("not a decimal: " + e.getMessage(), e);
      }
    }
  }
}
