package io.polybus.internal;

import static io.polybus.internal.ScriptedBackend.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.internal.ScriptedBackend.Record;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Batch dispatch and the handler gate, proven with a scripted consumer and a manual clock: what a
 * batch holds under KEY, what close does to deliveries still waiting for a batch or behind a pause,
 * manual-mode elements, and an over-delivered element that never reaches the handler.
 */
@Timeout(20)
class BatchDispatchTest {
  private final ScriptedBackend backend = new ScriptedBackend();
  private final ManualTime time = new ManualTime();
  private final DefaultPolybus bus =
      new DefaultPolybus(PolybusOptions.parse("scripted:"), backend, time);
  private final List<List<String>> batches = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void closeBus() {
    release.countDown();
    bus.close();
  }

  private static List<String> payloads(List<Delivery> batch) {
    List<String> out = new ArrayList<>();
    for (Delivery d : batch) {
      out.add(d.message().payloadAsString());
    }
    return out;
  }

  @Test
  void underKeyOrderingABatchHoldsOneMessageOfEachKeyAndTheNextComesInTheFollowingBatch() {
    bus.subscribeBatch(
        "t",
        "g",
        batch -> batches.add(payloads(batch)),
        SubscribeOptions.builder()
            .ordering(Ordering.KEY)
            .maxBatchSize(10)
            .maxBatchWait(
                Duration.ofMillis(100)) // every record arrives before the first batch runs
            .build());
    backend.offer(
        backend.record("a", "a1"),
        backend.record("a", "a2"),
        backend.record("b", "b1"),
        backend.record("a", "a3"),
        backend.record("b", "b2"));
    await(() -> batches.stream().mapToInt(List::size).sum(), n -> n == 5, "every message");
    assertThat(batches).first().isEqualTo(List.of("a1", "b1"));
    assertThat(batches.get(1)).isEqualTo(List.of("a2", "b2"));
    assertThat(batches.get(2)).isEqualTo(List.of("a3"));
  }

  @Test
  void aFailedElementHoldsBackOnlyItsKeyUntilItsRetryRunsAlone() {
    bus.subscribeBatch(
        "t",
        "g",
        batch -> {
          batches.add(payloads(batch));
          for (Delivery d : batch) {
            if (d.message().payloadAsString().equals("a1") && d.attempt() == 1) {
              d.retry(Duration.ofSeconds(1));
            }
          }
        },
        SubscribeOptions.builder()
            .ordering(Ordering.KEY)
            .maxBatchSize(10)
            .maxBatchWait(Duration.ZERO)
            .retryPolicy(RetryPolicy.builder().maxAttempts(3).build())
            .build());
    Record a1 = backend.record("a", "a1");
    Record a2 = backend.record("a", "a2");
    Record b1 = backend.record("b", "b1");
    Record b2 = backend.record("b", "b2");
    backend.offer(a1, a2, b1, b2);
    await(() -> b2.acked, ok -> ok, "key b goes on");
    assertThat(a2.acked).as("a2 waits behind a1's retry").isFalse();
    assertThat(batches).containsExactly(List.of("a1", "b1"), List.of("b2"));
    time.advance(TimeUnit.SECONDS.toNanos(1));
    await(() -> a2.acked, ok -> ok, "a2 after a1's retry");
    assertThat(batches.subList(2, batches.size())).containsExactly(List.of("a1"), List.of("a2"));
    assertThat(a1.acked).isTrue();
    assertThat(b1.acked).as("the neighbour acked once, never given back").isTrue();
    assertThat(b1.released).isNull();
  }

  @Test
  void closeMarksDeliveriesStillWaitingForABatchAsNotHandled() {
    Subscription s =
        bus.subscribeBatch(
            "t",
            "g",
            batch -> batches.add(payloads(batch)),
            SubscribeOptions.builder()
                .ordering(Ordering.NONE)
                .maxBatchSize(100)
                .maxBatchWait(Duration.ofMinutes(1))
                .build());
    Record r1 = backend.record("a", "r1");
    Record r2 = backend.record("b", "r2");
    backend.offer(r1, r2);
    await(s::inFlight, n -> n == 2, "both taken, waiting for the batch to fill");
    s.close(Duration.ofSeconds(5));
    assertThat(batches).as("no handler call: the batch never filled nor waited out").isEmpty();
    assertThat(r1.markedNotHandled).isTrue();
    assertThat(r2.markedNotHandled).isTrue();
  }

  @Test
  void manualElementsLeftUnsettledStayInFlightUntilSettledLater() {
    List<Delivery> kept = new CopyOnWriteArrayList<>();
    Subscription s =
        bus.subscribeBatch(
            "t",
            "g",
            batch -> {
              batches.add(payloads(batch));
              batch.get(0).ack();
              kept.addAll(batch.subList(1, batch.size()));
            },
            SubscribeOptions.builder()
                .ordering(Ordering.NONE)
                .ackMode(AckMode.MANUAL)
                .maxBatchSize(10)
                .maxBatchWait(Duration.ofMillis(200))
                .build());
    Record r1 = backend.record(null, "r1");
    Record r2 = backend.record(null, "r2");
    backend.offer(r1, r2);
    await(kept::size, n -> n == 1, "the batch handled, one element kept");
    assertThat(r1.acked).isTrue();
    assertThat(r2.acked).as("left unsettled in manual mode").isFalse();
    assertThat(s.inFlight()).isEqualTo(1);
    kept.get(0).ack();
    assertThat(r2.acked).isTrue();
    await(s::inFlight, n -> n == 0, "its slot freed");
  }

  @Test
  void anOverDeliveredElementIsDeadLetteredWithoutReachingTheBatchHandler() {
    bus.subscribeBatch(
        "t",
        "g",
        batch -> batches.add(payloads(batch)),
        SubscribeOptions.builder()
            .ordering(Ordering.NONE)
            .maxBatchSize(10)
            .maxBatchWait(Duration.ofMillis(200))
            .retryPolicy(RetryPolicy.builder().maxAttempts(2).build())
            .build());
    Record fine = backend.record(null, "fine");
    Record dead = backend.record(null, "dead", 3);
    backend.offer(fine, dead);
    await(() -> fine.acked, ok -> ok, "the fine one handled");
    await(() -> dead.acked, ok -> ok, "the over-delivered one dead-lettered, then acked");
    assertThat(batches).containsExactly(List.of("fine"));
    assertThat(backend.deadLetters).hasSize(1);
  }

  @Test
  void aPausedMemberStartsNothingNotEvenADueRetryAndResumeHandsEverythingOver()
      throws InterruptedException {
    List<String> handled = new CopyOnWriteArrayList<>();
    Subscription s =
        bus.subscribe(
            "t",
            "g",
            d -> {
              handled.add(d.message().payloadAsString() + "@" + d.attempt());
              if (d.attempt() == 1 && d.message().payloadAsString().equals("a1")) {
                throw new IllegalStateException("fails once");
              }
            },
            SubscribeOptions.builder()
                .ordering(Ordering.KEY)
                .retryPolicy(
                    RetryPolicy.builder()
                        .maxAttempts(3)
                        .initialBackoff(Duration.ofSeconds(1))
                        .jitter(0)
                        .build())
                .build());
    Record a1 = backend.record("a", "a1");
    backend.offer(a1);
    await(time::pending, n -> n == 1, "a1's retry scheduled");
    s.pause();
    Record b1 = backend.record("b", "b1");
    backend.offer(b1);
    time.advance(TimeUnit.SECONDS.toNanos(2)); // a1's retry comes due while paused
    Thread.sleep(200);
    assertThat(handled).as("nothing starts while paused").containsExactly("a1@1");
    assertThat(a1.recordedAttempts)
        .as("the due retry's attempt is noted only when it starts")
        .isEqualTo(1);
    s.resume();
    await(handled::size, n -> n == 3, "the retry and b1 after resume: " + handled);
    assertThat(handled).contains("a1@2", "b1@1");
  }
}
