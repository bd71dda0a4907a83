package io.polybus.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.AckMode;
import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared runtime against handlers that misbehave — throw errors, leave their interrupt flag
 * set, settle after close, ask for absurd delays — proven through {@code mem:}, a real backend.
 * Each case once left a subscription dead while it looked healthy, or lost a message.
 */
@Timeout(60)
class HandlerMisbehaviourTest {
  private static final RetryPolicy TWO_QUICK =
      RetryPolicy.builder().maxAttempts(2).initialBackoff(Duration.ofMillis(10)).build();

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void aStackOverflowErrorInAHandlerIsAFailedAttemptAndTheWorkerGoesOn() throws Exception {
    String topic = unique("soe");
    try (Polybus bus = Polybus.connect("mem:" + unique("b"))) {
      List<String> handled = new CopyOnWriteArrayList<>();
      Subscription s =
          bus.subscribe(
              topic,
              "g",
              d -> {
                if (d.message().payloadAsString().equals("deep")) {
                  recurse(0);
                }
                handled.add(d.message().payloadAsString());
              },
              SubscribeOptions.builder().retryPolicy(TWO_QUICK).build());
      BlockingQueue<Delivery> dead = new LinkedBlockingQueue<>();
      bus.subscribe(topic + ".g.dlq", "dlq", dead::add);

      bus.publishAndWait(topic, Message.of("deep"));
      bus.publishAndWait(topic, Message.of("after"));

      Delivery dl = dead.poll(20, TimeUnit.SECONDS);
      assertThat(dl).as("the overflowing message, dead-lettered after its attempts").isNotNull();
      assertThat(dl.message().header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("2");
      assertThat(dl.message().header(DeadLetterHeaders.ERROR_CLASS))
          .isEqualTo(StackOverflowError.class.getName());
      await(() -> handled.contains("after"), "the next message handled by the same worker");
      assertThat(s.isActive()).isTrue();
      assertThat(bus.health().up()).as("health %s", bus.health()).isTrue();
    }
  }

  private static int recurse(int n) {
    return recurse(n + 1) + 1;
  }

  @Test
  void anOutOfMemoryErrorInAHandlerFailsTheSubscriptionVisiblyAndGivesItsDeliveriesBack()
      throws Exception {
    String topic = unique("oom");
    try (Polybus bus = Polybus.connect("mem:" + unique("b"))) {
      Subscription s =
          bus.subscribe(
              topic,
              "g",
              d -> {
                throw new OutOfMemoryError("simulated by the test");
              });
      bus.publishAndWait(topic, Message.of("m"));

      await(() -> !s.isActive(), "the subscription no longer active");
      await(() -> !bus.health().up(), "health down");
      assertThat(bus.health().detail())
          .contains(topic)
          .contains("'g'")
          .contains("OutOfMemoryError");

      BlockingQueue<Delivery> got = new LinkedBlockingQueue<>();
      Subscription other = bus.subscribe(topic, "g", got::add);
      Delivery d = got.poll(20, TimeUnit.SECONDS);
      assertThat(d).as("the message, given back to the group").isNotNull();
      assertThat(d.attempt()).as("the failed handler's delivery counts").isEqualTo(2);

      s.close();
      await(() -> bus.health().up(), "health up once the failed subscription is closed");
      other.close();
    }
  }

  @Test
  void aHandlerThatSetsItsInterruptFlagDoesNotStopItsWorker() throws Exception {
    String topic = unique("intr");
    try (Polybus bus = Polybus.connect("mem:" + unique("b"))) {
      List<String> handled = new CopyOnWriteArrayList<>();
      Subscription s =
          bus.subscribe(
              topic,
              "g",
              d -> {
                handled.add(d.message().payloadAsString());
                Thread.currentThread().interrupt();
              });
      for (int i = 0; i < 3; i++) {
        bus.publishAndWait(topic, Message.of("m" + i));
        int n = i + 1;
        await(() -> handled.size() == n, "message " + i + " handled");
      }
      assertThat(handled).containsExactly("m0", "m1", "m2");
      assertThat(s.isActive()).isTrue();
    }
  }

  @Test
  void settlingADeliveryThatCloseGaveBackReturnsFalse() throws Exception {
    String topic = unique("late");
    try (Polybus bus = Polybus.connect("mem:" + unique("b"))) {
      BlockingQueue<Delivery> kept = new LinkedBlockingQueue<>();
      Subscription s =
          bus.subscribe(
              topic, "g", kept::add, SubscribeOptions.builder().ackMode(AckMode.MANUAL).build());
      bus.publishAndWait(topic, Message.of("m"));
      Delivery d = kept.poll(10, TimeUnit.SECONDS);
      assertThat(d).isNotNull();
      s.close(Duration.ofMillis(200));

      assertThat(d.ack()).as("ack after the delivery was given back").isFalse();
      assertThat(d.retry(Duration.ZERO)).isFalse();
      assertThat(d.deadLetter("late")).isFalse();

      BlockingQueue<Delivery> again = new LinkedBlockingQueue<>();
      bus.subscribe(topic, "g", again::add);
      Delivery redelivered = again.poll(10, TimeUnit.SECONDS);
      assertThat(redelivered).as("the message, delivered again").isNotNull();
      assertThat(redelivered.attempt()).isEqualTo(2);
    }
  }

  @Test
  void aRetryDelayBeyondTheBoundIsRefusedAndTheDeliveryStaysUnsettled() throws Exception {
    for (Ordering ordering : Ordering.values()) {
      String topic = unique("delay");
      try (Polybus bus = Polybus.connect("mem:" + unique("b"))) {
        BlockingQueue<Delivery> kept = new LinkedBlockingQueue<>();
        bus.subscribe(
            topic,
            "g",
            kept::add,
            SubscribeOptions.builder().ackMode(AckMode.MANUAL).ordering(ordering).build());
        bus.publishAndWait(topic, Message.builder().key("k").payload("m").build());
        Delivery d = kept.poll(10, TimeUnit.SECONDS);
        assertThat(d).isNotNull();

        for (Duration bad :
            List.of(
                Duration.ofDays(200_000),
                RetryPolicy.MAX_DELAY.plusNanos(1),
                Duration.ofMillis(-1))) {
          assertThatThrownBy(() -> d.retry(bad))
              .as("retry(%s) under %s", bad, ordering)
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining("12 hours");
        }
        assertThat(d.isSettled()).isFalse();
        assertThat(d.retry(Duration.ZERO)).as("a valid retry after the refused ones").isTrue();
        Delivery second = kept.poll(10, TimeUnit.SECONDS);
        assertThat(second).as("the retried message under %s", ordering).isNotNull();
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(second.ack()).isTrue();
      }
    }
  }

  @Test
  void aRetryDelayAtTheBoundIsAccepted() throws Exception {
    String topic = unique("bound");
    try (Polybus bus = Polybus.connect("mem:" + unique("b"))) {
      BlockingQueue<Delivery> kept = new LinkedBlockingQueue<>();
      Subscription s =
          bus.subscribe(
              topic,
              "g",
              kept::add,
              SubscribeOptions.builder()
                  .ackMode(AckMode.MANUAL)
                  .startFrom(StartFrom.EARLIEST)
                  .build());
      bus.publishAndWait(topic, Message.of("m"));
      Delivery d = kept.poll(10, TimeUnit.SECONDS);
      assertThat(d.retry(RetryPolicy.MAX_DELAY)).isTrue();
      assertThat(kept.poll(200, TimeUnit.MILLISECONDS)).as("nothing before the delay").isNull();
      s.close();
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(10);
    }
  }
}
