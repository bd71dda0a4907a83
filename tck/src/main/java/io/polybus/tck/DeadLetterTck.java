package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.polybus.AckMode;
import io.polybus.CodecException;
import io.polybus.DeadLetterHeaders;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RedriveResult;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves dead-lettering: exactly one dead-letter record per exhausted message, keeping the original
 * id, key, payload, timestamp and headers and adding every {@link DeadLetterHeaders} header; the
 * default topic {@code <topic>.<group>.dlq} and a custom one; consuming dead letters with the
 * normal API through the standing {@value Polybus#DEAD_LETTER_GROUP} group; {@link Polybus#redrive
 * redrive}; and a typed subscription whose payload does not decode, which is dead-lettered after
 * one attempt with a {@link CodecException}.
 *
 * <p>Each test opens its own bus and names; the dead-letter group exists from the moment the
 * failing subscription is created, so dead letters are consumed (or watched) by subscriptions made
 * after it.
 */
public interface DeadLetterTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldDeadLetterEachExhaustedMessageExactlyOnce() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-once");
      String group = uniqueName("g");
      Inbox inbox =
          new Inbox(
              d -> {
                throw new IllegalStateException("tck: always fails");
              });
      bus.subscribe(
          topic,
          group,
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .retryPolicy(fastRetries(2))
              .concurrency(4)
              .build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      List<Message> messages = textMessages("doomed", 20);
      bus.publishAllAndWait(topic, messages);
      assertDeliveredExactlyOnce(
          dead, idsOf(messages), "dead letters of 20 messages failing twice each");
      assertOnlyAndOnce(dedupeAttempts(inbox), idsOf(messages), "first attempts");
      if (!declaredCapabilities().mayDuplicate()) {
        assertThat(inbox.size()).as("attempts of 20 messages with maxAttempts 2").isEqualTo(40);
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldKeepTheOriginalMessageAndAddTheDeadLetterHeaders() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-headers");
      String group = uniqueName("g");
      String dlqTopic = defaultDeadLetterTopic(topic, group);
      bus.subscribe(
          topic,
          group,
          d -> {
            throw new IllegalStateException("tck: boom ü " + d.attempt());
          },
          SubscribeOptions.builder().retryPolicy(fastRetries(3)).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, dlqTopic, dead);
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("tenant", "acme");
      headers.put("trace", "t-1");
      headers.put("note", "héllo");
      Message sent =
          Message.builder()
              .key("customer-9")
              .payload(new byte[] {0, 1, 2, (byte) 0xff})
              .headers(headers)
              .timestamp(Instant.parse("2020-05-06T07:08:09.123Z"))
              .build();
      Instant before = Instant.now();
      bus.publishAndWait(topic, sent);
      dead.awaitIds(List.of(sent.id()), timeouts().await(), "the dead letter on " + dlqTopic);
      quietPeriod();
      assertThat(dead.ids()).as("dead letters on %s", dlqTopic).containsExactly(sent.id());
      Inbox.Received r = dead.received().get(0);
      assertThat(r.delivery().topic()).as("topic of the dead-letter delivery").isEqualTo(dlqTopic);
      assertThat(r.delivery().group())
          .as("group of the dead-letter delivery")
          .isEqualTo(Polybus.DEAD_LETTER_GROUP);
      Message dl = r.message();
      assertThat(dl.id()).as("dead-letter id").isEqualTo(sent.id());
      assertThat(dl.key()).as("dead-letter key").isEqualTo(sent.key());
      assertThat(dl.payload()).as("dead-letter payload").isEqualTo(sent.payload());
      assertThat(dl.timestampMillis())
          .as("dead-letter timestamp")
          .isEqualTo(sent.timestampMillis());
      Map<String, String> original = new LinkedHashMap<>(dl.headers());
      original.keySet().removeAll(DeadLetterHeaders.ALL);
      assertThat(original)
          .as("original headers kept by the dead letter, in order")
          .containsExactlyEntriesOf(headers);
      assertThat(dl.headers())
          .as("dead-letter headers")
          .containsEntry(DeadLetterHeaders.SOURCE_TOPIC, topic)
          .containsEntry(DeadLetterHeaders.GROUP, group)
          .containsEntry(DeadLetterHeaders.ATTEMPTS, "3")
          .containsEntry(DeadLetterHeaders.ERROR_CLASS, IllegalStateException.class.getName())
          .containsEntry(DeadLetterHeaders.ERROR_MESSAGE, "tck: boom ü 3")
          .containsKeys(DeadLetterHeaders.REASON, DeadLetterHeaders.FAILED_AT);
      assertThat(dl.header(DeadLetterHeaders.REASON)).as("dead-letter reason").isNotBlank();
      Instant failedAt = Instant.parse(dl.header(DeadLetterHeaders.FAILED_AT));
      assertThat(failedAt)
          .as("dead-letter failed-at (ISO-8601)")
          .isAfterOrEqualTo(before.minusMillis(1))
          .isBeforeOrEqualTo(Instant.now());
    }
  }

  @Test
  @Timeout(120)
  default void shouldDeadLetterAMessageAtBothTheSizeAndTheHeaderLimit() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-limits");
      String group = uniqueName("g");
      bus.subscribe(
          topic,
          group,
          d -> {
            throw new IllegalStateException("tck: fails");
          },
          SubscribeOptions.builder().retryPolicy(RetryPolicy.none()).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      // The dead letter carries the dead-letter headers on top of maxHeaders user headers: a
      // backend must have
      // room for them, or messages at the limits could never be dead-lettered.
      Message sent = FidelityTck.atTheLimits(declaredCapabilities());
      bus.publishAndWait(topic, sent);
      dead.awaitIds(
          List.of(sent.id()),
          timeouts().await(),
          "the dead letter of a message at the size and header" + " limits");
      Message dl = dead.messages().get(0);
      Map<String, String> original = new LinkedHashMap<>(dl.headers());
      original.keySet().removeAll(DeadLetterHeaders.ALL);
      assertThat(original)
          .as("the maxHeaders original headers of the dead letter")
          .containsExactlyEntriesOf(sent.headers());
      assertThat(dl.headers())
          .as("dead-letter headers on a message with maxHeaders headers")
          .containsKeys(
              DeadLetterHeaders.SOURCE_TOPIC,
              DeadLetterHeaders.GROUP,
              DeadLetterHeaders.ATTEMPTS,
              DeadLetterHeaders.REASON,
              DeadLetterHeaders.ERROR_CLASS,
              DeadLetterHeaders.ERROR_MESSAGE,
              DeadLetterHeaders.FAILED_AT);
      assertThat(java.util.Arrays.equals(dl.payload(), sent.payload()))
          .as("maximal payload of the dead letter")
          .isTrue();
    }
  }

  @Test
  @Timeout(120)
  default void shouldHonourACustomDeadLetterTopic() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-custom");
      String group = uniqueName("g");
      String custom = uniqueName("custom-dlq");
      Inbox defaultTopic = new Inbox();
      // Exists before the failure, so it would receive a dead letter sent to the default topic by
      // mistake.
      bus.subscribe(
          defaultDeadLetterTopic(topic, group),
          Polybus.DEAD_LETTER_GROUP,
          defaultTopic,
          SubscribeOptions.builder().ordering(Ordering.NONE).startFrom(StartFrom.EARLIEST).build());
      bus.subscribe(
          topic,
          group,
          d -> {
            throw new IllegalStateException("tck: fails");
          },
          SubscribeOptions.builder()
              .retryPolicy(RetryPolicy.none())
              .deadLetterTopic(custom)
              .build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, custom, dead);
      Message m = Message.of("custom dead-letter topic");
      bus.publishAndWait(topic, m);
      dead.awaitIds(
          List.of(m.id()), timeouts().await(), "the dead letter on the custom topic " + custom);
      quietPeriod();
      assertThat(dead.ids()).as("dead letters on the custom topic").containsExactly(m.id());
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.SOURCE_TOPIC))
          .as("source topic header")
          .isEqualTo(topic);
      assertThat(defaultTopic.ids())
          .as("dead letters on the default topic when a custom one is set")
          .isEmpty();
    }
  }

  @Test
  @Timeout(120)
  default void shouldRedriveDeadLettersToTheirSourceTopic() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-redrive");
      String group = uniqueName("g");
      String dlqTopic = defaultDeadLetterTopic(topic, group);
      AtomicBoolean failing = new AtomicBoolean(true);
      Inbox handled = new Inbox();
      Inbox inbox =
          new Inbox(
              d -> {
                if (failing.get()) {
                  throw new IllegalStateException("tck: fails until redrive");
                }
                handled.handle(d);
              });
      bus.subscribe(
          topic, group, inbox, SubscribeOptions.builder().retryPolicy(RetryPolicy.none()).build());
      // A second group on the dead-letter topic watches the dead letters without taking them from
      // the dlq group.
      Inbox watcher = new Inbox();
      bus.subscribe(
          dlqTopic,
          uniqueName("watch"),
          watcher,
          SubscribeOptions.builder().ordering(Ordering.NONE).build());
      List<Message> messages = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        messages.add(
            Message.builder()
                .key("k" + i)
                .payload("redrive-" + i)
                .header("n", Integer.toString(i))
                .build());
      }
      bus.publishAllAndWait(topic, messages);
      watcher.awaitIds(
          idsOf(messages), timeouts().await(), "5 dead letters seen by a watching group");
      failing.set(false);
      Duration idle = timeouts().quiet().multipliedBy(2);
      RedriveResult result = redriveWithinAwait(bus, dlqTopic, idle);
      assertThat(result.republished()).as("records republished by redrive").isEqualTo(5);
      assertThat(result.skipped()).as("records skipped by redrive").isZero();
      assertDeliveredExactlyOnce(
          handled, idsOf(messages), "redriven messages back on the source topic");
      for (Message sent : messages) {
        Message back = handled.of(sent.id()).get(0).message();
        assertThat(back.headers())
            .as("headers of redriven message %s (dead-letter headers removed)", sent.id())
            .containsExactlyEntriesOf(sent.headers());
        assertThat(back.payload()).as("payload of redriven message").isEqualTo(sent.payload());
        assertThat(back.key()).as("key of redriven message").isEqualTo(sent.key());
      }
      RedriveResult again = redriveWithinAwait(bus, dlqTopic, idle);
      assertThat(again.republished()).as("records republished by a second redrive").isZero();
    }
  }

  @Test
  @Timeout(120)
  default void shouldKeepDeadLettersForTheDeadLetterGroupBeforeAnyoneSubscribesToIt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-kept");
      String group = uniqueName("g");
      String dlqTopic = defaultDeadLetterTopic(topic, group);
      bus.subscribe(
          topic,
          group,
          d -> {
            throw new IllegalStateException("tck: fails");
          },
          SubscribeOptions.builder().retryPolicy(RetryPolicy.none()).build());
      // Another group of the dead-letter topic shows when the dead letter has been published.
      Inbox watcher = new Inbox();
      bus.subscribe(
          dlqTopic,
          uniqueName("watch"),
          watcher,
          SubscribeOptions.builder().ordering(Ordering.NONE).build());
      Message m = Message.of("kept for later");
      bus.publishAndWait(topic, m);
      watcher.awaitIds(
          List.of(m.id()), timeouts().await(), "the dead letter seen by a watching group");
      // LATEST: only a group that already existed when the dead letter was published can deliver
      // it.
      Inbox dead = new Inbox();
      bus.subscribe(
          dlqTopic,
          Polybus.DEAD_LETTER_GROUP,
          dead,
          SubscribeOptions.builder().ordering(Ordering.NONE).startFrom(StartFrom.LATEST).build());
      assertDeliveredExactlyOnce(
          dead,
          List.of(m.id()),
          "a dead letter published before anyone subscribed to the "
              + Polybus.DEAD_LETTER_GROUP
              + " group");
    }
  }

  @Test
  @Timeout(120)
  default void shouldDeadLetterAMessageWhoseMembersKeepClosingWithoutSettlingIt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-crash");
      String group = uniqueName("g");
      SubscribeOptions manual =
          SubscribeOptions.builder().ackMode(AckMode.MANUAL).retryPolicy(fastRetries(2)).build();
      Message m = Message.of("crashes its consumers");
      Inbox dead = new Inbox();
      List<Inbox> members = new ArrayList<>();
      for (int i = 1; i <= 2; i++) {
        Inbox member =
            new Inbox(); // manual mode, never settles: as a consumer that dies while handling
        Subscription s = bus.subscribe(topic, group, member, manual);
        if (i == 1) {
          subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
          bus.publishAndWait(topic, m);
        }
        member.awaitIds(List.of(m.id()), timeouts().await(), "the message at member " + i);
        s.close(Duration.ZERO);
        members.add(member);
      }
      // The third member receives it with a delivery count above maxAttempts: dead-lettered,
      // handler not called.
      Inbox third = new Inbox();
      bus.subscribe(topic, group, third, manual);
      dead.awaitIds(
          List.of(m.id()), timeouts().await(), "the dead letter after 2 members closed holding it");
      quietPeriod();
      assertThat(members.get(0).received())
          .extracting(Inbox.Received::attempt)
          .as("attempt at the first member")
          .containsExactly(1);
      assertThat(members.get(1).received())
          .extracting(Inbox.Received::attempt)
          .as("attempt at the second member")
          .containsExactly(2);
      assertThat(third.ids())
          .as("deliveries to a member after maxAttempts members closed holding it")
          .isEmpty();
      assertThat(dead.ids()).as("dead letters").containsExactly(m.id());
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.ATTEMPTS))
          .as("dead-letter attempts header")
          .isEqualTo("2");
    }
  }

  @Test
  @Timeout(120)
  default void shouldLeaveRecordsWithoutASourceTopicInPlaceWhenRedriving() {
    try (Polybus bus = connect()) {
      String dlqTopic = uniqueName("dlq-foreign");
      // Creates the dead-letter group, then leaves, so the record below waits for it.
      bus.subscribe(dlqTopic, Polybus.DEAD_LETTER_GROUP, new Inbox()).close();
      bus.publishAndWait(dlqTopic, Message.of("no source topic header"));
      Duration idle = timeouts().quiet().multipliedBy(2);
      RedriveResult first = redriveWithinAwait(bus, dlqTopic, idle);
      assertThat(first.skipped())
          .as("records without a source topic skipped by redrive")
          .isEqualTo(1);
      assertThat(first.republished()).as("records republished by redrive").isZero();
      RedriveResult second = redriveWithinAwait(bus, dlqTopic, idle);
      assertThat(second.skipped())
          .as("the skipped record, still there for a second redrive")
          .isEqualTo(1);
    }
  }

  @Test
  @Timeout(120)
  default void shouldDeadLetterAnUndecodablePayloadOfATypedSubscriptionAfterOneAttempt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("dlq-codec");
      String group = uniqueName("g");
      TckIntegerCodec codec = new TckIntegerCodec();
      ConcurrentLinkedQueue<Integer> values = new ConcurrentLinkedQueue<>();
      bus.subscribe(
          topic,
          group,
          codec,
          (value, delivery) -> values.add(value),
          SubscribeOptions.builder().retryPolicy(fastRetries(5)).build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      Message bad = Message.of("forty-two");
      Message good = Message.builder().value(codec, 42).build();
      bus.publishAndWait(topic, bad);
      bus.publishAndWait(topic, good);
      dead.awaitIds(
          List.of(bad.id()), timeouts().await(), "the dead letter of an undecodable payload");
      Await.until(
          timeouts().await(), "the decodable message was handled", () -> values.contains(42));
      quietPeriod();
      assertThat(dead.ids()).as("dead letters of a typed subscription").containsExactly(bad.id());
      assertThat(values).as("values given to the typed handler").containsExactly(42);
      assertThat(codec.decodes("forty-two"))
          .as("decode attempts of the undecodable payload")
          .isEqualTo(1);
      Message dl = dead.messages().get(0);
      assertThat(dl.header(DeadLetterHeaders.ERROR_CLASS))
          .as("error class of a decode failure")
          .isEqualTo(CodecException.class.getName());
      assertThat(dl.header(DeadLetterHeaders.ATTEMPTS))
          .as("attempts of a decode failure")
          .isEqualTo("1");
      assertThat(dl.payloadAsString())
          .as("payload of the undecodable dead letter")
          .isEqualTo("forty-two");
    }
  }

  /**
   * Redrives, failing (and interrupting the redrive) unless it finishes within the await timeout
   * plus its idle period: a backend whose acks do not stick would otherwise redrive the same
   * records forever.
   */
  private RedriveResult redriveWithinAwait(Polybus bus, String dlqTopic, Duration idle) {
    Duration bound = timeouts().await().plus(idle);
    return assertTimeoutPreemptively(
        bound,
        () -> bus.redrive(dlqTopic, idle),
        () ->
            "redrive of "
                + dlqTopic
                + " (idle "
                + idle
                + ") did not finish within "
                + bound
                + ": do its acks remove the records from the dead-letter topic?");
  }

  /** The ids of first attempts only, so each message appears once however often it was retried. */
  private static List<String> dedupeAttempts(Inbox inbox) {
    List<String> out = new ArrayList<>();
    for (Inbox.Received r : inbox.received()) {
      if (r.attempt() == 1) {
        out.add(r.message().id());
      }
    }
    return out;
  }
}
