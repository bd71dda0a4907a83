package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.AckMode;
import io.polybus.DeadLetterHeaders;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves settling and retrying: a failing message is attempted exactly {@link
 * RetryPolicy#maxAttempts()} times, numbered 1 to N, with at least the configured backoff between
 * attempts (and not much more), then dead-lettered once; a non-retryable failure is dead-lettered
 * after one attempt; the manual settling methods do what they say, are idempotent, and the first
 * one wins; an acked message never comes back, not even to a new member.
 *
 * <p>The attempt-count and backoff cases run under {@link Ordering#KEY} (when the backend declares
 * {@code orderedByKey}), where the shared runtime retries in place, and under {@link
 * Ordering#NONE}, where it may hand the retry to the backend's native delayed release. Each test
 * opens its own bus and names.
 */
public interface AckRetryTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldAttemptExactlyMaxAttemptsTimesThenDeadLetterOnceUnderKeyOrdering() {
    assumeOrderedByKey();
    attemptsThenDeadLetter(Ordering.KEY);
  }

  @Test
  @Timeout(120)
  default void shouldAttemptExactlyMaxAttemptsTimesThenDeadLetterOnceWithoutOrdering() {
    attemptsThenDeadLetter(Ordering.NONE);
  }

  @Test
  @Timeout(120)
  default void shouldWaitAtLeastTheBackoffBetweenAttemptsUnderKeyOrdering() {
    assumeOrderedByKey();
    backoffBetweenAttempts(Ordering.KEY);
  }

  @Test
  @Timeout(120)
  default void shouldWaitAtLeastTheBackoffBetweenAttemptsWithoutOrdering() {
    backoffBetweenAttempts(Ordering.NONE);
  }

  @Test
  @Timeout(120)
  default void shouldDeadLetterANonRetryableFailureAfterOneAttempt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-nonretryable");
      String group = uniqueName("g");
      Inbox inbox =
          new Inbox(
              d -> {
                throw new IllegalArgumentException("tck: not retryable");
              });
      RetryPolicy policy =
          RetryPolicy.builder()
              .maxAttempts(5)
              .initialBackoff(Duration.ofMillis(10))
              .jitter(0)
              .nonRetryable(IllegalArgumentException.class)
              .build();
      bus.subscribe(topic, group, inbox, SubscribeOptions.builder().retryPolicy(policy).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message m = Message.of("k", "non-retryable");
      bus.publishAndWait(topic, m);
      dead.awaitIds(
          List.of(m.id()), timeouts().await(), "the dead letter of a non-retryable failure");
      quietPeriod();
      assertThat(inbox.ids())
          .as("attempts of a message failing with a non-retryable exception")
          .hasSize(1);
      assertThat(dead.ids()).as("dead letters").containsExactly(m.id());
      Message dl = dead.messages().get(0);
      assertThat(dl.header(DeadLetterHeaders.ATTEMPTS))
          .as("dead-letter attempts header")
          .isEqualTo("1");
      assertThat(dl.header(DeadLetterHeaders.ERROR_CLASS))
          .as("dead-letter error class header")
          .isEqualTo(IllegalArgumentException.class.getName());
    }
  }

  @Test
  @Timeout(120)
  default void shouldRedeliverAfterAManualRetryWithTheNextAttemptNoSoonerThanItsDelay() {
    Duration delay = Duration.ofMillis(300);
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-manual");
      ConcurrentLinkedQueue<Boolean> retryResults = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Long> retriedAt = new ConcurrentLinkedQueue<>();
      Inbox inbox =
          new Inbox(
              d -> {
                if (d.attempt() == 1) {
                  retriedAt.add(System.nanoTime());
                  retryResults.add(d.retry(delay));
                } else {
                  d.ack();
                }
              });
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder().ackMode(AckMode.MANUAL).build());
      Message m = Message.of("k", "retry me");
      bus.publishAndWait(topic, m);
      inbox.awaitSize(2, timeouts().await(), "a message retried once by hand");
      quietPeriod();
      List<Inbox.Received> got = inbox.of(m.id());
      assertThat(got)
          .extracting(Inbox.Received::attempt)
          .as("attempts of a message retried once by hand")
          .containsExactly(1, 2);
      assertThat(retryResults)
          .as("result of retry(delay) on an unsettled delivery")
          .containsExactly(true);
      long waited = got.get(1).nanoTime() - retriedAt.peek();
      assertThat(Duration.ofNanos(waited))
          .as("time from retry(%s) to the next attempt", delay)
          .isGreaterThanOrEqualTo(delay)
          .isLessThanOrEqualTo(delay.plus(timeouts().retrySlack()));
    }
  }

  @Test
  @Timeout(120)
  default void shouldDeadLetterAManualRetryOfTheLastAttempt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-last");
      String group = uniqueName("g");
      RetryPolicy policy =
          RetryPolicy.builder()
              .maxAttempts(2)
              .initialBackoff(Duration.ofMillis(10))
              .jitter(0)
              .build();
      Inbox inbox = new Inbox(d -> d.retry(Duration.ZERO));
      bus.subscribe(
          topic,
          group,
          inbox,
          SubscribeOptions.builder().ackMode(AckMode.MANUAL).retryPolicy(policy).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message m = Message.of("k", "retried forever by hand");
      bus.publishAndWait(topic, m);
      dead.awaitIds(
          List.of(m.id()),
          timeouts().await(),
          "the dead letter of a message retried after its last attempt");
      quietPeriod();
      assertThat(attempts(inbox))
          .as("attempts of a message the handler always retries, maxAttempts 2")
          .containsExactly(1, 2);
      assertThat(dead.ids()).as("dead letters").containsExactly(m.id());
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.ATTEMPTS))
          .as("dead-letter attempts header")
          .isEqualTo("2");
    }
  }

  @Test
  @Timeout(120)
  default void shouldPutTheReasonOfAManualDeadLetterIntoTheDeadLetterRecord() {
    String reason = "tck: rejected by hand – ünïcödé ✓";
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-deadletter");
      String group = uniqueName("g");
      ConcurrentLinkedQueue<Boolean> results = new ConcurrentLinkedQueue<>();
      Inbox inbox = new Inbox(d -> results.add(d.deadLetter(reason)));
      bus.subscribe(
          topic, group, inbox, SubscribeOptions.builder().ackMode(AckMode.MANUAL).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message m = Message.of("k", "dead-letter me");
      bus.publishAndWait(topic, m);
      dead.awaitIds(List.of(m.id()), timeouts().await(), "the manual dead letter");
      quietPeriod();
      assertThat(results).as("result of deadLetter(reason)").containsExactly(true);
      assertThat(inbox.ids())
          .as("attempts of a message dead-lettered by hand")
          .containsExactly(m.id());
      assertThat(dead.ids()).as("dead letters").containsExactly(m.id());
      Message dl = dead.messages().get(0);
      assertThat(dl.header(DeadLetterHeaders.REASON))
          .as("dead-letter reason header")
          .isEqualTo(reason);
      assertThat(dl.header(DeadLetterHeaders.ATTEMPTS))
          .as("dead-letter attempts header")
          .isEqualTo("1");
      assertThat(dl.header(DeadLetterHeaders.ERROR_CLASS))
          .as("error class header when no handler threw")
          .isNull();
    }
  }

  @Test
  @Timeout(120)
  default void shouldReturnFalseFromASecondAckAndChangeNothing() {
    ConcurrentLinkedQueue<String> results = new ConcurrentLinkedQueue<>();
    settleTwiceThenWatch(
        d -> {
          results.add("ack=" + d.ack());
          results.add("ack=" + d.ack());
          results.add("settled=" + d.isSettled());
        });
    assertThat(results)
        .as("ack, ack again, isSettled")
        .containsExactly("ack=true", "ack=false", "settled=true");
  }

  @Test
  @Timeout(120)
  default void shouldIgnoreRetryAndDeadLetterAfterAck() {
    ConcurrentLinkedQueue<String> results = new ConcurrentLinkedQueue<>();
    settleTwiceThenWatch(
        d -> {
          results.add("ack=" + d.ack());
          results.add("retry=" + d.retry(Duration.ZERO));
          results.add("deadLetter=" + d.deadLetter("tck: too late"));
        });
    assertThat(results)
        .as("ack, then retry, then deadLetter")
        .containsExactly("ack=true", "retry=false", "deadLetter=false");
  }

  @Test
  @Timeout(120)
  default void shouldNeverRedeliverAnAckedMessageNotEvenToANewMember() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-acked");
      String group = uniqueName("g");
      Inbox first = new Inbox();
      Subscription member = bus.subscribe(topic, group, first);
      List<Message> messages = textMessages("acked", 50);
      bus.publishAllAndWait(topic, messages);
      assertDeliveredExactlyOnce(first, idsOf(messages), "50 acked messages");
      member.close();
      // A backend that lost the acks would give every message back to the group when its member
      // leaves.
      Inbox second = new Inbox();
      bus.subscribe(topic, group, second);
      quietPeriod();
      Message sentinel = Message.of("sentinel");
      bus.publishAndWait(topic, sentinel);
      second.awaitIds(List.of(sentinel.id()), timeouts().await(), "the sentinel at the new member");
      assertThat(second.ids())
          .as("messages the new member of the group received after 50 were acked")
          .containsExactly(sentinel.id());
      assertThat(first.ids()).as("deliveries to the first member").hasSize(messages.size());
    }
  }

  // ---------------------------------------------------------------- shared bodies

  private void attemptsThenDeadLetter(Ordering ordering) {
    int maxAttempts = 4;
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-attempts");
      String group = uniqueName("g");
      Inbox inbox =
          new Inbox(
              d -> {
                throw new IllegalStateException("tck: always fails, attempt " + d.attempt());
              });
      RetryPolicy policy =
          RetryPolicy.builder()
              .maxAttempts(maxAttempts)
              .initialBackoff(Duration.ofMillis(20))
              .multiplier(1.5)
              .jitter(0)
              .build();
      bus.subscribe(
          topic,
          group,
          inbox,
          SubscribeOptions.builder().ordering(ordering).retryPolicy(policy).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message m = Message.of("key-1", "always fails");
      bus.publishAndWait(topic, m);
      dead.awaitIds(
          List.of(m.id()),
          timeouts().await(),
          () ->
              "the dead letter after "
                  + maxAttempts
                  + " attempts under "
                  + ordering
                  + " (attempts so far: "
                  + attempts(inbox)
                  + ")");
      quietPeriod();
      assertThat(attempts(inbox))
          .as(
              "attempt numbers of a message that always fails, maxAttempts %d, ordering %s",
              maxAttempts, ordering)
          .containsExactly(1, 2, 3, 4);
      assertThat(dead.ids()).as("dead letters of the message").containsExactly(m.id());
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.ATTEMPTS))
          .as("dead-letter attempts header")
          .isEqualTo(Integer.toString(maxAttempts));
    }
  }

  private void backoffBetweenAttempts(Ordering ordering) {
    Duration initial = Duration.ofMillis(200);
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(4)
            .initialBackoff(initial)
            .multiplier(2)
            .maxBackoff(Duration.ofSeconds(10))
            .jitter(0)
            .build();
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-backoff");
      String group = uniqueName("g");
      ConcurrentLinkedQueue<Long> failedAt = new ConcurrentLinkedQueue<>();
      Inbox inbox =
          new Inbox(
              d -> {
                failedAt.add(
                    System.nanoTime()); // taken before throwing: the backoff starts after this
                throw new IllegalStateException("tck: fails for the backoff");
              });
      bus.subscribe(
          topic,
          group,
          inbox,
          SubscribeOptions.builder().ordering(ordering).retryPolicy(policy).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message m = Message.of("key-1", "backoff");
      bus.publishAndWait(topic, m);
      dead.awaitIds(
          List.of(m.id()),
          timeouts().await(),
          "the dead letter after 4 attempts under " + ordering);
      List<Inbox.Received> got = inbox.received();
      List<Long> failed = new ArrayList<>(failedAt);
      assertThat(got)
          .extracting(Inbox.Received::attempt)
          .as("attempts")
          .containsExactly(1, 2, 3, 4);
      for (int n = 1; n < got.size(); n++) {
        Duration expected = policy.nominalBackoff(n);
        Duration observed = Duration.ofNanos(got.get(n).nanoTime() - failed.get(n - 1));
        assertThat(observed)
            .as(
                "delay between attempt %d failing and attempt %d starting, ordering %s",
                n, n + 1, ordering)
            .isGreaterThanOrEqualTo(expected)
            .isLessThanOrEqualTo(expected.plus(timeouts().retrySlack()));
      }
    }
  }

  /**
   * Delivers one message in manual mode to {@code settle}, then proves nothing comes back and
   * nothing is dead.
   */
  private void settleTwiceThenWatch(io.polybus.Handler settle) {
    try (Polybus bus = connect()) {
      String topic = uniqueName("retry-settle");
      String group = uniqueName("g");
      Inbox inbox = new Inbox(settle);
      bus.subscribe(
          topic, group, inbox, SubscribeOptions.builder().ackMode(AckMode.MANUAL).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message m = Message.of("k", "settle twice");
      bus.publishAndWait(topic, m);
      inbox.awaitIds(List.of(m.id()), timeouts().await(), "the message");
      quietPeriod();
      assertThat(inbox.ids())
          .as("deliveries of a message acked once and settled again")
          .containsExactly(m.id());
      assertThat(dead.ids()).as("dead letters of a message acked once and settled again").isEmpty();
    }
  }

  private static List<Integer> attempts(Inbox inbox) {
    List<Integer> out = new ArrayList<>();
    for (Inbox.Received r : inbox.received()) {
      out.add(r.attempt());
    }
    return out;
  }
}
