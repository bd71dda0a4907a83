package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.BatchHandler;
import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves batch handlers ({@link BatchHandler}): every element settles on its own (one retried or
 * dead-lettered alone, its neighbours never delivered again); a handler that throws fails only the
 * elements it left unsettled, each counting one attempt; with {@link Ordering#KEY} no batch holds
 * two messages of one key and every key is handled in publish order across batches and retries; a
 * batch that does not fill is handed over once {@code maxBatchWait} has passed, not before.
 */
public interface BatchTck extends TckContext {

  /** Records every batch a handler gets, then runs the given per-batch logic. */
  final class BatchInbox implements BatchHandler {
    final ConcurrentLinkedQueue<List<Inbox.Received>> batches = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> calledAt = new ConcurrentLinkedQueue<>();
    private final BatchHandler next;

    BatchInbox(BatchHandler next) {
      this.next = next;
    }

    @Override
    public void handle(List<Delivery> batch) throws Exception {
      long now = System.nanoTime();
      calledAt.add(now);
      List<Inbox.Received> got = new ArrayList<>();
      for (Delivery d : batch) {
        got.add(
            new Inbox.Received(d, d.message(), d.attempt(), now, Thread.currentThread().getName()));
      }
      batches.add(got);
      next.handle(batch);
    }

    List<Inbox.Received> all() {
      List<Inbox.Received> out = new ArrayList<>();
      batches.forEach(out::addAll);
      return out;
    }

    List<String> ids() {
      return all().stream().map(r -> r.message().id()).toList();
    }

    List<Integer> attemptsOf(String id) {
      return all().stream()
          .filter(r -> r.message().id().equals(id))
          .map(Inbox.Received::attempt)
          .toList();
    }
  }

  @Test
  @Timeout(120)
  default void shouldSettleEachElementOfABatchOnItsOwn() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("batch-settle");
      String group = uniqueName("g");
      List<Message> messages = textMessages("b", 12);
      String retried = messages.get(3).id();
      String dead = messages.get(7).id();
      BatchInbox inbox =
          new BatchInbox(
              batch -> {
                for (Delivery d : batch) {
                  if (d.message().id().equals(retried) && d.attempt() == 1) {
                    d.retry(Duration.ofMillis(10));
                  } else if (d.message().id().equals(dead)) {
                    d.deadLetter("tck: rejected in a batch");
                  }
                }
              });
      bus.subscribeBatch(
          topic,
          group,
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .retryPolicy(fastRetries(3))
              .maxBatchSize(5)
              .maxBatchWait(Duration.ofMillis(100))
              .build());
      Inbox deadLetters = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), deadLetters);
      bus.publishAllAndWait(topic, messages);
      deadLetters.awaitIds(List.of(dead), timeouts().await(), "the element dead-lettered");
      Await.until(
          timeouts().await(),
          "the retried element handled again",
          () -> inbox.attemptsOf(retried).contains(2));
      quietPeriod();
      assertThat(inbox.batches)
          .as("batches (maxBatchSize 5)")
          .allSatisfy(b -> assertThat(b).hasSizeBetween(1, 5));
      assertThat(inbox.attemptsOf(retried)).as("attempts of the retried element").contains(1, 2);
      List<String> once = new ArrayList<>(idsOf(messages));
      once.remove(retried);
      List<String> others = new ArrayList<>(inbox.ids());
      others.removeIf(retried::equals);
      assertOnlyAndOnce(others, once, "the retried element's neighbours");
      assertThat(deadLetters.ids()).as("dead letters").containsExactly(dead);
      assertThat(deadLetters.messages().get(0).header(DeadLetterHeaders.REASON))
          .as("reason of the element dead-lettered in a batch")
          .isEqualTo("tck: rejected in a batch");
    }
  }

  @Test
  @Timeout(120)
  default void shouldFailOnlyTheUnsettledElementsOfABatchWhoseHandlerThrows() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("batch-throw");
      List<Message> messages = textMessages("t", 4);
      AtomicBoolean thrown = new AtomicBoolean();
      ConcurrentLinkedQueue<List<String>> threw = new ConcurrentLinkedQueue<>();
      BatchInbox inbox =
          new BatchInbox(
              batch -> {
                // The first batch of several throws, after acking its first element.
                if (batch.size() > 1 && thrown.compareAndSet(false, true)) {
                  threw.add(batch.stream().map(d -> d.message().id()).toList());
                  batch.get(0).ack();
                  throw new IllegalStateException("tck: the batch failed");
                }
              });
      bus.subscribeBatch(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .retryPolicy(fastRetries(3))
              .maxBatchSize(10)
              .maxBatchWait(Duration.ofSeconds(1))
              .build());
      bus.publishAllAndWait(topic, messages);
      Await.until(
          timeouts().await(),
          "a batch of several messages (4 published at once, maxBatchWait 1 s)",
          () -> !threw.isEmpty());
      List<String> first = threw.peek();
      String acked = first.get(0);
      List<String> failed = first.subList(1, first.size());
      Await.until(
          timeouts().await(),
          "every unsettled element of the failed batch attempted again",
          () -> failed.stream().allMatch(id -> inbox.attemptsOf(id).contains(2)));
      Await.until(
          timeouts().await(),
          "every message handled",
          () -> new HashSet<>(inbox.ids()).containsAll(idsOf(messages)));
      quietPeriod();
      assertThat(inbox.attemptsOf(acked))
          .as("attempts of the element acked before the handler threw")
          .containsOnly(1);
      for (String id : failed) {
        assertThat(inbox.attemptsOf(id))
            .as("attempts of the unsettled element %s of the batch that threw", id)
            .contains(1, 2)
            .doesNotContain(3);
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldHoldAtMostOneMessageOfAKeyPerBatchAndKeepKeyOrder() {
    assumeOrderedByKey();
    try (Polybus bus = connect()) {
      String topic = uniqueName("batch-keys");
      int keys = 3;
      int perKey = 8;
      List<Message> messages = new ArrayList<>();
      for (int i = 0; i < perKey; i++) {
        for (int k = 0; k < keys; k++) {
          messages.add(Message.builder().key("key-" + k).payload("m-" + k + "-" + i).build());
        }
      }
      String failing = messages.get(keys * 2).id(); // the third message of key-0
      BatchInbox inbox =
          new BatchInbox(
              batch -> {
                for (Delivery d : batch) {
                  if (d.message().id().equals(failing) && d.attempt() == 1) {
                    d.retry(Duration.ofMillis(50));
                  }
                }
              });
      bus.subscribeBatch(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.KEY)
              .retryPolicy(fastRetries(3))
              .maxBatchSize(10)
              .maxBatchWait(Duration.ofMillis(20))
              .build());
      bus.publishAllAndWait(topic, messages);
      Await.until(
          timeouts().await(),
          "every message handled",
          () -> new HashSet<>(inbox.ids()).containsAll(idsOf(messages)));
      quietPeriod();
      for (List<Inbox.Received> batch : inbox.batches) {
        Set<String> seen = new HashSet<>();
        for (Inbox.Received r : batch) {
          assertThat(seen.add(r.message().key()))
              .as("a second message of key %s in one batch: %s", r.message().key(), batch)
              .isTrue();
        }
      }
      Map<String, List<String>> handledByKey = new HashMap<>();
      for (Inbox.Received r : inbox.all()) {
        if (r.message().id().equals(failing) && r.attempt() == 1) {
          continue; // the failed attempt; its retry takes its place
        }
        handledByKey
            .computeIfAbsent(r.message().key(), k -> new ArrayList<>())
            .add(r.message().id());
      }
      for (int k = 0; k < keys; k++) {
        String key = "key-" + k;
        List<String> expected =
            messages.stream().filter(m -> m.key().equals(key)).map(Message::id).toList();
        assertThat(handledByKey.get(key))
            .as("handled order of %s (its third message failed once)", key)
            .containsExactlyElementsOf(expected);
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldCallTheHandlerWithAPartialBatchOnceMaxBatchWaitHasPassed() {
    Duration wait = Duration.ofMillis(400);
    try (Polybus bus = connect()) {
      String topic = uniqueName("batch-wait");
      BatchInbox inbox = new BatchInbox(batch -> {});
      bus.subscribeBatch(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .maxBatchSize(100)
              .maxBatchWait(wait)
              .build());
      List<Message> messages = textMessages("w", 3);
      long published = System.nanoTime();
      bus.publishAllAndWait(topic, messages);
      Await.until(
          timeouts().await(),
          "the partial batch handed over",
          () -> new HashSet<>(inbox.ids()).containsAll(idsOf(messages)));
      long first = inbox.calledAt.peek();
      assertThat(Duration.ofNanos(first - published))
          .as("time from publishing 3 messages to the first call of a batch of up to 100")
          .isGreaterThanOrEqualTo(wait)
          .isLessThanOrEqualTo(wait.plus(timeouts().await()));
      assertThat(inbox.batches.peek()).as("the first batch").hasSizeBetween(1, 3);
    }
  }
}
