package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21: a burst of asynchronous publishes from one thread, far faster than the endpoint
 * answers, is sent whole (coalesced into batches), never failed by a timeout while it waits; every
 * message reaches the group once, and in FIFO mode each key in publish order.
 */
class SqsBurstTest {
  static final String PREFIX = SqsTestSupport.uniquePrefix();
  static final int MESSAGES = 5000;
  static final int KEYS = 50;

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }

  @Test
  @Timeout(120)
  void shouldSendEveryMessageOfABurstOf5000AsynchronousPublishesOnceToItsGroup() throws Exception {
    burst("", Ordering.NONE);
  }

  @Test
  @Timeout(120)
  void shouldSendEveryMessageOfAFifoBurstOf5000AsynchronousPublishesOnceToItsGroupInKeyOrder()
      throws Exception {
    burst("fifo=true", Ordering.KEY);
  }

  private void burst(String extra, Ordering ordering) throws Exception {
    try (Polybus bus = Polybus.connect(SqsTestSupport.uri(PREFIX, extra))) {
      SubscribeOptions opts = SubscribeOptions.builder().ordering(ordering).concurrency(2).build();
      Inbox inbox = new Inbox();
      bus.subscribe("burst", "g", inbox, opts);

      long t0 = System.nanoTime();
      List<Message> messages = new ArrayList<>(MESSAGES);
      List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>(MESSAGES);
      for (int i = 0; i < MESSAGES; i++) {
        Message m = Message.builder().key("k" + (i % KEYS)).payload("m" + i).build();
        messages.add(m);
        futures.add(bus.publish("burst", m));
      }
      // Below the outbox's bound, so the documented answer is: every publish is sent.
      assertThat(MESSAGES).isLessThanOrEqualTo(SqsBackend.MAX_WAITING_MESSAGES);
      Map<String, Integer> failures = new LinkedHashMap<>();
      for (CompletableFuture<PublishReceipt> f : futures) {
        try {
          f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          failures.merge(e.getCause().getClass().getSimpleName(), 1, Integer::sum);
        }
      }
      assertThat(failures).as("failed publishes by exception").isEmpty();
      long t1 = System.nanoTime();

      List<String> ids = messages.stream().map(Message::id).toList();
      inbox.awaitIds(ids, Duration.ofSeconds(60), "every message of the burst");
      System.out.printf(
          "%s burst of %d: confirmed after %d ms, delivered after %d ms%n",
          extra.isEmpty() ? "standard" : extra,
          MESSAGES,
          TimeUnit.NANOSECONDS.toMillis(t1 - t0),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      // A moment more, for a duplicate that is still on its way.
      Thread.sleep(500);
      assertThat(inbox.size()).as("deliveries (each message once)").isEqualTo(MESSAGES);
      assertThat(inbox.distinctIds()).hasSize(MESSAGES);
      if (ordering == Ordering.KEY) {
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        for (Message m : inbox.messages()) {
          byKey.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m.id());
        }
        for (Map.Entry<String, List<String>> k : byKey.entrySet()) {
          List<String> published =
              messages.stream().filter(m -> m.key().equals(k.getKey())).map(Message::id).toList();
          assertThat(k.getValue()).as("key %s in publish order", k.getKey()).isEqualTo(published);
        }
      }
    }
  }
}
