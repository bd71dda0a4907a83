package io.polybus.idempotency.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.DeadLetterHeaders;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.idempotency.Idempotent;
import io.polybus.idempotency.InMemoryProcessedStore;
import io.polybus.idempotency.JdbcProcessedStore;
import io.polybus.idempotency.ProcessedStoreException;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * {@link Idempotent} over mem: beyond the TCK's cases: the wait for a running copy running out, a
 * store that cannot be reached, and the typed form.
 */
@Timeout(120)
class IdempotentHandlerTest {
  static final Duration AWAIT = Duration.ofSeconds(30);

  @Test
  void shouldRetryACopyWhoseWaitForTheRunningOneRanOutAndThenSkipIt() {
    Idempotent idempotent =
        Idempotent.builder(InMemoryProcessedStore.create())
            .concurrentWait(Duration.ofMillis(100))
            .busyRetryDelay(Duration.ofMillis(50))
            .build();
    AtomicInteger runs = new AtomicInteger();
    try (Polybus bus = Polybus.connect("mem:")) {
      Inbox delivered =
          new Inbox(
              idempotent.handler(
                  d -> {
                    runs.incrementAndGet();
                    Thread.sleep(1000);
                  }));
      bus.subscribe(
          "orders",
          "billing",
          delivered,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .concurrency(2)
              .retryPolicy(RetryPolicy.builder().maxAttempts(30).jitter(0).build())
              .build());
      Message m = Message.of("slow");
      bus.publishAllAndWait("orders", List.of(m, m));
      Await.quietFor(Duration.ofMillis(2000));
      assertThat(runs.get()).as("handler runs for two copies").isEqualTo(1);
      assertThat(delivered.received())
          .as("the copy was retried while the first ran")
          .anySatisfy(r -> assertThat(r.attempt()).isGreaterThan(1));
      int settled = delivered.size();
      Await.quietFor(Duration.ofMillis(500));
      assertThat(delivered.size())
          .as("no more deliveries once the copy was skipped")
          .isEqualTo(settled);
    }
  }

  @Test
  void shouldRunTheHandlerForAWaitingCopyWhenTheRunningOneFailed() {
    Idempotent idempotent = Idempotent.using(InMemoryProcessedStore.create());
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    AtomicInteger runs = new AtomicInteger();
    Inbox succeeded = new Inbox();
    try (Polybus bus = Polybus.connect("mem:")) {
      bus.subscribe(
          "orders",
          "billing",
          idempotent.handler(
              d -> {
                mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                  Thread.sleep(300);
                  if (runs.incrementAndGet() == 1) {
                    throw new IllegalStateException("test: the first run fails");
                  }
                  succeeded.handle(d);
                } finally {
                  running.decrementAndGet();
                }
              }),
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .concurrency(2)
              .retryPolicy(RetryPolicy.builder().maxAttempts(3).jitter(0).build())
              .build());
      Message m = Message.of("two copies");
      bus.publishAllAndWait("orders", List.of(m, m));
      succeeded.awaitIds(List.of(m.id()), AWAIT, "a successful run");
      Await.quietFor(Duration.ofSeconds(2)); // the failed copy's retry (1 s backoff) is skipped
      assertThat(mostAtOnce.get()).as("runs at once").isEqualTo(1);
      assertThat(succeeded.received())
          .as("the copy that waited ran the handler, first attempt")
          .singleElement()
          .satisfies(r -> assertThat(r.attempt()).isEqualTo(1));
      assertThat(runs.get()).as("runs: the failure, the waiting copy, no more").isEqualTo(2);
    }
  }

  @Test
  void shouldFailTheAttemptAndMarkNothingWhenTheStoreIsUnreachable() {
    PGSimpleDataSource down = new PGSimpleDataSource();
    down.setUrl("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=1");
    JdbcProcessedStore store = JdbcProcessedStore.builder(down).createTable(false).build();
    AtomicInteger runs = new AtomicInteger();
    try (Polybus bus = Polybus.connect("mem:")) {
      bus.subscribe(
          "orders",
          "billing",
          Idempotent.using(store).handler(d -> runs.incrementAndGet()),
          SubscribeOptions.builder()
              .retryPolicy(
                  RetryPolicy.builder()
                      .maxAttempts(2)
                      .initialBackoff(Duration.ofMillis(10))
                      .jitter(0)
                      .build())
              .build());
      Inbox dead = new Inbox();
      bus.subscribe("orders.billing.dlq", "watch", dead, SubscribeOptions.defaults());
      Message m = Message.of("order");
      bus.publishAndWait("orders", m);
      dead.awaitIds(List.of(m.id()), AWAIT, "the dead letter after the store failed twice");
      Message record = dead.messages().get(0);
      assertThat(record.headers().get(DeadLetterHeaders.ERROR_CLASS))
          .isEqualTo(ProcessedStoreException.class.getName());
      assertThat(record.headers().get(DeadLetterHeaders.ERROR_MESSAGE))
          .contains("message " + m.id() + " for group billing")
          .contains("polybus_processed");
      assertThat(runs.get()).as("handler runs without a store to check").isZero();
    }
  }

  @Test
  void shouldSkipACopyInATypedSubscription() {
    Idempotent idempotent = Idempotent.using(InMemoryProcessedStore.create());
    Inbox delivered = new Inbox();
    List<Integer> values = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Polybus bus = Polybus.connect("mem:")) {
      bus.subscribe(
          "numbers",
          "sum",
          new TransactionalHandlerTest.DecimalCodec(),
          idempotent.<Integer>typedHandler(
              (value, d) -> {
                delivered.handle(d);
                values.add(value);
              }),
          SubscribeOptions.defaults());
      Message m = Message.of("7");
      bus.publishAndWait("numbers", m);
      bus.publishAndWait("numbers", m);
      Await.until(AWAIT, "the value handled", () -> values.size() == 1);
      Await.quietFor(Duration.ofMillis(500));
      assertThat(values).containsExactly(7);
    }
  }
}
