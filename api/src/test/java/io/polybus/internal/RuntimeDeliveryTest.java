package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.DeadLetterHeaders;
import io.polybus.Ordering;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.internal.ScriptedBackend.Record;
import io.polybus.spi.ConsumerSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The settle state machine of one attempt, driven on the test thread alone: no worker runs, the
 * clock is manual, and each case looks at what the record, the in-flight window and the worker's
 * queue were left with.
 */
class RuntimeDeliveryTest {
  private static final RetryPolicy THREE_ATTEMPTS =
      RetryPolicy.builder()
          .maxAttempts(3)
          .initialBackoff(Duration.ofSeconds(1))
          .jitter(0)
          .nonRetryable(ClassCastException.class)
          .build();

  private final ScriptedBackend backend = new ScriptedBackend();
  private final ManualTime time = new ManualTime();
  private final RunState state = new RunState();
  private final InFlightWindow window = new InFlightWindow(10, 1);

  private KeyedDispatch.Worker worker;
  private SettleRules rules;

  private RuntimeDelivery delivery(Ordering ordering, boolean nativeRetry, Record r, int attempt) {
    ConsumerSpec spec =
        new ConsumerSpec("t", "g", ordering, StartFrom.EARLIEST, Duration.ofSeconds(30), 10);
    DeadLetterPublisher dlq =
        new DeadLetterPublisher(backend, spec, "t.g.dlq", time, () -> state.stopping, null);
    rules =
        new SettleRules(spec, THREE_ATTEMPTS, nativeRetry, dlq, time, window, state, null, null);
    worker = new KeyedDispatch("test", 1, d -> {}, false, rules, (why, t) -> {}).worker(0);
    window.take(1);
    backend.outstanding.incrementAndGet();
    return new RuntimeDelivery(r, attempt, worker, rules);
  }

  private RuntimeDelivery delivery(Record r, int attempt) {
    return delivery(Ordering.KEY, false, r, attempt);
  }

  @Test
  void theFirstSettleWinsAndEveryLaterOneReturnsFalse() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(r, 1);

    assertThat(d.ack()).isTrue();
    assertThat(d.ack()).isFalse();
    assertThat(d.retry(Duration.ZERO)).isFalse();
    assertThat(d.deadLetter("late")).isFalse();
    d.fail(new IllegalStateException("after the ack"));

    assertThat(r.acked).isTrue();
    assertThat(r.released).isNull();
    assertThat(backend.deadLetters).isEmpty();
    assertThat(window.room()).as("the one slot freed once").isEqualTo(10);
  }

  @Test
  void aRefusedRetryDelayLeavesTheDeliveryUnsettled() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(r, 1);

    assertThatThrownBy(() -> d.retry(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-0.001S");
    assertThatThrownBy(() -> d.retry(RetryPolicy.MAX_DELAY.plusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("between 0 and");

    assertThat(d.isSettled()).isFalse();
    assertThat(d.ack()).as("still settleable").isTrue();
  }

  @Test
  void noSettleIsClaimedOnceTheRecordsWentBackToTheBroker() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(r, 1);
    state.givenBack = true;

    assertThat(d.ack()).isFalse();
    assertThat(d.deadLetter("too late")).isFalse();
    assertThat(d.isSettled()).isFalse();
    assertThat(r.acked).isFalse();
    assertThat(window.room()).as("the slot goes with the consumer's close").isEqualTo(9);
  }

  @Test
  void aFailedKeyedAttemptRetriesInPlaceKeepingItsSlotUntilTheNextAttemptIsQueuedWhenDue() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(r, 1);

    d.fail(new IllegalStateException("boom"));

    assertThat(d.isSettled()).isTrue();
    assertThat(d.released).as("the record stays leased").isFalse();
    assertThat(r.recordedAttempts).isEqualTo(1);
    assertThat(window.room()).as("the slot stays taken").isEqualTo(9);
    time.advance(Duration.ofMillis(999).toNanos());
    assertThat(worker.queue).as("not before the backoff").isEmpty();
    time.advance(Duration.ofMillis(1).toNanos());
    assertThat(worker.queue).hasSize(1);
    RuntimeDelivery next = (RuntimeDelivery) worker.queue.poll();
    assertThat(next.attempt()).isEqualTo(2);
    assertThat(next.record).isSameAs(r);
    assertThat(next.isSettled()).isFalse();
  }

  @Test
  void aDueRetryIsDroppedOnceStoppingForTheConsumersCloseToGiveBack() {
    RuntimeDelivery d = delivery(backend.record("k", "m"), 1);
    d.fail(new IllegalStateException("boom"));
    state.stopping = true;
    time.advance(Duration.ofSeconds(1).toNanos());
    assertThat(worker.queue).isEmpty();
  }

  @Test
  void anUnorderedRetryOnABackendWithNativeDelaysReleasesTheRecordAndFreesItsSlot() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(Ordering.NONE, true, r, 1);

    assertThat(d.retry(Duration.ofSeconds(5))).isTrue();

    assertThat(r.released).isEqualTo(Duration.ofSeconds(5));
    assertThat(d.released).isTrue();
    assertThat(window.room()).isEqualTo(10);
    assertThat(time.pending()).as("the broker runs the delay").isZero();
  }

  @Test
  void aRetryRequestedOnTheLastAttemptDeadLettersSayingSo() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(r, 3);

    assertThat(d.retry(Duration.ZERO)).isTrue();

    assertThat(backend.deadLetters).hasSize(1);
    assertThat(backend.deadLetters.get(0).header(DeadLetterHeaders.REASON))
        .isEqualTo("retry requested after the last attempt (3 of 3)");
    assertThat(backend.deadLetters.get(0).header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    assertThat(r.acked).isTrue();
    assertThat(window.room()).isEqualTo(10);
  }

  @Test
  void aNonRetryableFailureIsDeadLetteredOnTheFirstAttempt() {
    Record r = backend.record("k", "m");
    RuntimeDelivery d = delivery(r, 1);

    d.fail(new ClassCastException("not an order"));

    assertThat(backend.deadLetters).hasSize(1);
    assertThat(backend.deadLetters.get(0).header(DeadLetterHeaders.REASON))
        .startsWith("non-retryable failure: java.lang.ClassCastException");
    assertThat(time.pending()).isZero();
  }

  @Test
  void anOverDeliveredRecordIsDeadLetteredCountingTheDeliveriesBeforeIt() {
    Record within = backend.record("k", "m", 3);
    assertThat(delivery(within, 3).deadLetterIfOverDelivered()).isFalse();
    assertThat(backend.deadLetters).isEmpty();

    Record over = backend.record("k", "m", 4);
    RuntimeDelivery d = delivery(over, 4);
    assertThat(d.deadLetterIfOverDelivered()).isTrue();
    assertThat(backend.deadLetters).hasSize(1);
    assertThat(backend.deadLetters.get(0).header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    assertThat(over.acked).isTrue();
  }
}
