package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.CircuitBreaker;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves pausing and the circuit breaker: a paused member starts no handler and fetches nothing,
 * keeps what it holds through a pause longer than its ack timeout (no redelivery to the other
 * member), and after {@link Subscription#resume()} handles every message once; a {@link
 * CircuitBreaker} opens at its threshold (no handler runs while it is open), lets a trial through
 * when half open, closes when the trial succeeds, and loses nothing on the way.
 */
public interface ConsumerControlTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldDeliverNothingWhilePausedAndEveryMessageOnceAfterResume() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("pause");
      Inbox inbox = new Inbox();
      Subscription s =
          bus.subscribe(
              topic,
              uniqueName("g"),
              inbox,
              SubscribeOptions.builder().ordering(Ordering.NONE).build());
      List<Message> before = textMessages("before", 3);
      bus.publishAllAndWait(topic, before);
      inbox.awaitIds(idsOf(before), timeouts().await(), "messages published before the pause");
      s.pause();
      assertThat(s.isPaused()).as("isPaused() after pause()").isTrue();
      int seen = inbox.size();
      List<Message> during = textMessages("during", 10);
      bus.publishAllAndWait(topic, during);
      quietPeriod();
      assertThat(inbox.size() - seen).as("deliveries to a paused member").isZero();
      s.resume();
      assertThat(s.isPaused()).as("isPaused() after resume()").isFalse();
      List<Message> all = new ArrayList<>(before);
      all.addAll(during);
      assertDeliveredExactlyOnce(inbox, idsOf(all), "messages published before and while paused");
    }
  }

  @Test
  @Timeout(120)
  default void shouldKeepWhatAPausedMemberHoldsThroughAPauseLongerThanTheAckTimeout()
      throws Exception {
    Duration ackTimeout = Duration.ofSeconds(1);
    try (Polybus bus = connect()) {
      String topic = uniqueName("pause-hold");
      String group = uniqueName("g");
      CountDownLatch firstStarted = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      Inbox held =
          new Inbox(
              d -> {
                firstStarted.countDown();
                release.await(30, TimeUnit.SECONDS);
              });
      SubscribeOptions options =
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .ackTimeout(ackTimeout)
              .maxInFlight(8)
              .build();
      Subscription a = bus.subscribe(topic, group, held, options);
      List<Message> messages = textMessages("held", 6);
      bus.publishAllAndWait(topic, messages);
      assertThat(firstStarted.await(timeouts().await().toMillis(), TimeUnit.MILLISECONDS))
          .as("the first member started a handler")
          .isTrue();
      // Let it fetch what it has room for, then pause it while its handler still runs.
      Await.until(
          timeouts().await(), "the first member holds more than it runs", () -> a.inFlight() > 1);
      a.pause();
      release.countDown();
      Inbox other = new Inbox();
      bus.subscribe(topic, group, other, options);
      Await.quietFor(ackTimeout.multipliedBy(3));
      List<String> seenByOther = other.ids();
      a.resume();
      List<String> both = new ArrayList<>();
      Await.until(
          timeouts().await(),
          "every message handled by one of the members",
          () -> {
            both.clear();
            both.addAll(held.ids());
            both.addAll(other.ids());
            return both.containsAll(idsOf(messages));
          });
      quietPeriod();
      both.clear();
      both.addAll(held.ids());
      both.addAll(other.ids());
      List<String> heldIds = held.ids();
      assertThat(seenByOther)
          .as("messages the paused member held that the other member got during the pause")
          .doesNotContainAnyElementsOf(heldIds);
      assertOnlyAndOnce(both, idsOf(messages), "messages shared by a paused member and another");
    }
  }

  @Test
  @Timeout(120)
  default void shouldOpenTheCircuitAtItsThresholdAndCloseItAfterASuccessfulHalfOpenTrial() {
    Duration open = Duration.ofMillis(800);
    try (Polybus bus = connect()) {
      String topic = uniqueName("breaker");
      ConcurrentLinkedQueue<String> transitions = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Long> openedAt = new ConcurrentLinkedQueue<>();
      AtomicBoolean down = new AtomicBoolean(true);
      Inbox inbox =
          new Inbox(
              d -> {
                if (down.get()) {
                  throw new IllegalStateException("tck: downstream down");
                }
              });
      CircuitBreaker breaker =
          CircuitBreaker.builder()
              .slidingWindow(4)
              .minimumCalls(4)
              .failureRateThreshold(1.0)
              .openDuration(open)
              .halfOpenTrials(1)
              .listener(
                  (s, from, to, why) -> {
                    if (to == CircuitBreaker.State.OPEN) {
                      openedAt.add(System.nanoTime());
                    }
                    transitions.add(from + "->" + to);
                  })
              .build();
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .retryPolicy(fastRetries(20))
              .circuitBreaker(breaker)
              .build());
      List<Message> messages = textMessages("breaker", 2);
      bus.publishAllAndWait(topic, messages);
      Await.until(timeouts().await(), "the breaker opened", () -> !openedAt.isEmpty());
      int attemptsWhenOpened = inbox.size();
      assertThat(attemptsWhenOpened)
          .as("failed attempts when the breaker opened (window 4, threshold 100%%)")
          .isGreaterThanOrEqualTo(4);
      // Nothing starts while open: at most the attempts already running when it opened.
      Await.quietFor(open.dividedBy(2));
      assertThat(inbox.size())
          .as("handler attempts during the first half of the open duration")
          .isLessThanOrEqualTo(attemptsWhenOpened + 1);
      down.set(false);
      assertDeliveredAfterFailures(inbox, messages);
      Await.until(
          timeouts().await(),
          "the breaker went half open and closed",
          () -> transitions.contains("HALF_OPEN->CLOSED"));
      List<String> seen = new ArrayList<>(transitions);
      assertThat(seen.subList(0, 3))
          .as("the breaker's first transitions")
          .containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
    }
  }

  /** Every message attempted again after its failures: retried, not lost. */
  private void assertDeliveredAfterFailures(Inbox inbox, List<Message> messages) {
    Await.until(
        timeouts().await(),
        "every message handled after the downstream came back",
        () -> {
          for (Message m : messages) {
            if (inbox.of(m.id()).size() < 2) {
              return false;
            }
          }
          return true;
        });
  }
}
