package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves the lifecycle of subscriptions and buses: unsettled deliveries of a closed member go to
 * another member; closing drains running handlers up to its deadline; closing is idempotent; a
 * closed bus refuses work; the in-flight bound holds; an open bus reports itself healthy.
 *
 * <p>Each test opens its own bus and names. The in-flight case settles deliveries from a thread of
 * its own, as an application that acks asynchronously does.
 */
public interface LifecycleTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldRedeliverUnsettledDeliveriesToAnotherMemberAfterClose() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("life-handover");
      String group = uniqueName("g");
      Inbox holder = new Inbox(); // manual mode and never settles
      Subscription first =
          bus.subscribe(
              topic, group, holder, SubscribeOptions.builder().ackMode(AckMode.MANUAL).build());
      List<Message> messages = textMessages("held", 5);
      bus.publishAllAndWait(topic, messages);
      holder.awaitIds(
          idsOf(messages), timeouts().await(), "5 messages at the member that never settles");
      Inbox taker = new Inbox();
      bus.subscribe(topic, group, taker);
      quietPeriod();
      assertThat(taker.ids())
          .as("messages the second member got while the first still held them")
          .isEmpty();
      first.close(Duration.ZERO);
      assertDeliveredExactlyOnce(
          taker, idsOf(messages), "messages left unsettled by a closed member");
      for (Inbox.Received r : taker.received()) {
        assertThat(r.attempt())
            .as("attempt of a message redelivered after its first member closed")
            .isGreaterThanOrEqualTo(2);
      }
      assertThat(holder.ids()).as("deliveries to the closed member").hasSize(messages.size());
    }
  }

  /**
   * A rolling restart: three members in turn receive the backlog, start one message (whose handler
   * outlives the drain deadline) and close. Only those started deliveries count: a fourth member
   * gets every message with attempt 1 plus the number of times a handler started it, none
   * dead-lettered unseen.
   */
  @Test
  @Timeout(180)
  default void shouldNotCountDeliveriesThatAClosingMemberGaveBackUnhandled() {
    assumeCapability(declaredCapabilities().uncountedGiveBack(), "uncountedGiveBack");
    try (Polybus bus = connect()) {
      String topic = uniqueName("life-unseen");
      String group = uniqueName("g");
      List<Message> messages = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        messages.add(Message.builder().key("k" + i).payload("unseen-" + i).build());
      }
      SubscribeOptions options =
          SubscribeOptions.builder()
              .retryPolicy(
                  io.polybus.RetryPolicy.builder()
                      .maxAttempts(4)
                      .initialBackoff(Duration.ZERO)
                      .build())
              .build();
      java.util.Map<String, AtomicInteger> started = new ConcurrentHashMap<>();
      for (int round = 1; round <= 3; round++) {
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Subscription member =
            bus.subscribe(
                topic,
                group,
                d -> {
                  started
                      .computeIfAbsent(d.message().id(), id -> new AtomicInteger())
                      .incrementAndGet();
                  inHandler.countDown();
                  awaitUninterruptibly(
                      release); // outlives the drain deadline, so close gives this delivery back
                },
                options);
        if (round == 1) {
          bus.publishAllAndWait(topic, messages); // once the group exists
        }
        try {
          assertThat(inHandler.await(timeouts().await().toMillis(), TimeUnit.MILLISECONDS))
              .as("a handler started in round %d", round)
              .isTrue();
          quietPeriod(); // the member receives what it prefetches
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        } finally {
          member.close(Duration.ofMillis(100));
          release.countDown();
        }
      }
      Inbox last = new Inbox();
      bus.subscribe(topic, group, last, options);
      last.awaitIds(idsOf(messages), timeouts().await(), "every message at the fourth member");
      for (Message m : messages) {
        AtomicInteger before = started.get(m.id());
        int expected = 1 + (before == null ? 0 : before.get());
        assertThat(last.of(m.id()).get(0).attempt())
            .as(
                "attempt of %s at the fourth member, after handlers had started it %d times",
                m.payloadAsString(), expected - 1)
            .isEqualTo(expected);
      }
    }
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  @Timeout(120)
  default void shouldLetRunningHandlersFinishAndSettleWhenClosing() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("life-drain");
      String group = uniqueName("g");
      AtomicBoolean finished = new AtomicBoolean();
      Inbox slow =
          new Inbox(
              d -> {
                TimeUnit.MILLISECONDS.sleep(500);
                finished.set(true);
              });
      Subscription s = bus.subscribe(topic, group, slow);
      Message m = Message.of("slow");
      bus.publishAndWait(topic, m);
      slow.awaitIds(List.of(m.id()), timeouts().await(), "the slow handler started");
      boolean drained = s.close(Duration.ofSeconds(10));
      assertThat(finished).as("the running handler finished before close returned").isTrue();
      assertThat(drained).as("close(10 s) reports the running handler finished in time").isTrue();
      assertThat(s.isActive()).as("isActive after close").isFalse();
      // The handler returned, so its message was acked: a new member of the group must not see it
      // again.
      Inbox next = new Inbox();
      bus.subscribe(topic, group, next);
      quietPeriod();
      Message sentinel = Message.of("sentinel");
      bus.publishAndWait(topic, sentinel);
      next.awaitIds(List.of(sentinel.id()), timeouts().await(), "the sentinel at the next member");
      assertThat(next.ids())
          .as("messages the next member received after a drained close")
          .containsExactly(sentinel.id());
    }
  }

  @Test
  @Timeout(120)
  default void shouldCloseSubscriptionsAndBusesIdempotently() {
    Polybus bus = connect();
    try {
      Subscription s = bus.subscribe(uniqueName("life-close"), uniqueName("g"), new Inbox());
      assertThat(s.isActive()).as("isActive of a new subscription").isTrue();
      s.close();
      s.close();
      assertThat(s.close(Duration.ZERO)).as("close(0) of a closed subscription").isTrue();
      assertThat(s.isActive()).as("isActive after close").isFalse();
      Subscription open = bus.subscribe(uniqueName("life-close"), uniqueName("g"), new Inbox());
      bus.close();
      assertThat(open.isActive()).as("isActive of a subscription after its bus closed").isFalse();
      open.close();
    } finally {
      bus.close();
      bus.close();
    }
  }

  @Test
  @Timeout(120)
  default void shouldLetAHandlerCloseItsOwnSubscription() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("life-selfclose");
      AtomicReference<Subscription> self = new AtomicReference<>();
      CountDownLatch closed = new CountDownLatch(1);
      Subscription s =
          bus.subscribe(
              topic,
              uniqueName("g"),
              d -> {
                Await.until(
                    timeouts().await(),
                    "the test handed the subscription to its handler",
                    () -> self.get() != null);
                self.get().close(); // must not wait for this very handler
                closed.countDown();
              },
              SubscribeOptions.builder().concurrency(2).build());
      self.set(s);
      bus.publishAndWait(topic, Message.of("close from inside"));
      Await.until(
          timeouts().await(),
          "a handler closed its own subscription",
          () -> closed.getCount() == 0);
      assertThat(s.isActive()).as("isActive after a handler closed its subscription").isFalse();
    }
  }

  @Test
  @Timeout(120)
  default void shouldRejectPublishingAfterTheBusClosed() {
    Polybus bus = connect();
    String topic = uniqueName("life-closed");
    bus.close();
    Message m = Message.of("late");
    assertThatThrownBy(() -> bus.publish(topic, m))
        .as("publish after close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> bus.publishAndWait(topic, m))
        .as("publishAndWait after close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> bus.publishAll(topic, List.of(m)))
        .as("publishAll after close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> bus.publishAllAndWait(topic, List.of(m)))
        .as("publishAllAndWait after close")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  @Timeout(120)
  default void shouldRejectSubscribingAfterTheBusClosed() {
    Polybus bus = connect();
    String topic = uniqueName("life-closed");
    bus.close();
    assertThatThrownBy(() -> bus.subscribe(topic, uniqueName("g"), new Inbox()))
        .as("subscribe after close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () -> bus.subscribe(topic, uniqueName("g"), new Inbox(), SubscribeOptions.defaults()))
        .as("subscribe with options after close")
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> bus.redrive(topic + ".dlq", Duration.ofSeconds(1)))
        .as("redrive after close")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  @Timeout(120)
  default void shouldNeverHoldMoreUnsettledDeliveriesThanMaxInFlight() {
    int maxInFlight = 5;
    int count = 200;
    ScheduledExecutorService acker = Executors.newSingleThreadScheduledExecutor();
    try (Polybus bus = connect()) {
      String topic = uniqueName("life-inflight");
      Set<Delivery> unsettled = ConcurrentHashMap.newKeySet();
      AtomicInteger maxSeen = new AtomicInteger();
      Inbox inbox =
          new Inbox(
              d -> {
                unsettled.add(d);
                maxSeen.accumulateAndGet(unsettled.size(), Math::max);
                acker.schedule(
                    () -> {
                      unsettled.remove(
                          d); // before the ack: once acked, the slot may be refilled at once
                      d.ack();
                    },
                    20,
                    TimeUnit.MILLISECONDS);
              });
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder()
              .ackMode(AckMode.MANUAL)
              .concurrency(8)
              .maxInFlight(maxInFlight)
              .build());
      List<Message> messages = textMessages("window", count);
      bus.publishAllAndWait(topic, messages);
      assertDeliveredExactlyOnce(
          inbox, idsOf(messages), count + " messages through a window of " + maxInFlight);
      assertThat(maxSeen.get())
          .as(
              "most unsettled deliveries held at once with maxInFlight %d and concurrency 8",
              maxInFlight)
          .isLessThanOrEqualTo(maxInFlight);
    } finally {
      acker.shutdownNow();
    }
  }

  @Test
  @Timeout(120)
  default void shouldReportHealthUpOnAnOpenBus() {
    Polybus bus = connect();
    try {
      Health h = bus.health();
      assertThat(h.up()).as("health of an open bus: %s", h.detail()).isTrue();
      assertThat(h.detail()).as("health detail").isNotBlank();
    } finally {
      bus.close();
    }
    assertThat(bus.health().up()).as("health of a closed bus").isFalse();
  }
}
