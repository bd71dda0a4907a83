package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.SubscribeOptions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves the basic delivery contract: every message published after a group exists reaches that
 * group, exactly once when nothing fails (at least once on a backend that declares {@code
 * mayDuplicate}); topics are isolated; every group gets every message; members of one group share
 * the work; concurrent publishers lose nothing; receipts name topic and message.
 *
 * <p>Each test opens its own bus and names, so tests are independent and may run in parallel.
 * Implement {@link PolybusTck} to run this area with all the others; see {@link TckContext} for
 * what to supply.
 */
public interface DeliveryTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldDeliverEveryMessagePublishedAfterTheGroupExistsExactlyOnce() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("delivery");
      String group = uniqueName("g");
      Inbox inbox = new Inbox();
      bus.subscribe(topic, group, inbox);
      List<Message> messages = textMessages("m", 1000);
      for (int i = 0; i < messages.size(); i += 100) {
        bus.publishAllAndWait(topic, messages.subList(i, i + 100));
      }
      assertDeliveredExactlyOnce(inbox, idsOf(messages), "1000 messages to one group");
      for (Inbox.Received r : inbox.received()) {
        assertThat(r.delivery().topic()).as("delivery topic").isEqualTo(topic);
        assertThat(r.delivery().group()).as("delivery group").isEqualTo(group);
        assertThat(r.attempt())
            .as("attempt of a message delivered for the first time")
            .isEqualTo(1);
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldKeepTopicsIsolated() {
    try (Polybus bus = connect()) {
      String topicA = uniqueName("delivery-a");
      String topicB = uniqueName("delivery-b");
      String group = uniqueName("g");
      Inbox inboxA = new Inbox();
      Inbox inboxB = new Inbox();
      bus.subscribe(topicA, group, inboxA);
      bus.subscribe(topicB, group, inboxB);
      List<Message> toA = textMessages("a", 50);
      List<Message> toB = textMessages("b", 50);
      bus.publishAllAndWait(topicA, toA);
      bus.publishAllAndWait(topicB, toB);
      inboxA.awaitIds(idsOf(toA), timeouts().await(), "topic A");
      assertDeliveredExactlyOnce(inboxB, idsOf(toB), "topic B (same group name as on topic A)");
      assertOnlyAndOnce(inboxA.ids(), idsOf(toA), "topic A (same group name as on topic B)");
    }
  }

  @Test
  @Timeout(120)
  default void shouldDeliverEveryMessageToEveryGroup() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("fanout");
      List<Inbox> inboxes = new ArrayList<>();
      for (int g = 0; g < 3; g++) {
        Inbox inbox = new Inbox();
        bus.subscribe(topic, uniqueName("g" + g), inbox);
        inboxes.add(inbox);
      }
      List<Message> messages = textMessages("m", 300);
      bus.publishAllAndWait(topic, messages);
      for (int g = 0; g < inboxes.size(); g++) {
        inboxes.get(g).awaitIds(idsOf(messages), timeouts().await(), "group " + g);
      }
      quietPeriod();
      for (int g = 0; g < inboxes.size(); g++) {
        assertOnlyAndOnce(inboxes.get(g).ids(), idsOf(messages), "group " + g + " of 3");
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldShareTheWorkOfOneGroupAmongItsMembersHandlingEachMessageOnce() {
    // With competingConsumers absent this still runs: each message must reach exactly one member,
    // and the
    // declaration must be true (one member did everything).
    try (Polybus bus = connect()) {
      String topic = uniqueName("compete");
      String group = uniqueName("g");
      // A small in-flight window and handlers that take a little time, so neither member can grab
      // everything.
      SubscribeOptions opts = SubscribeOptions.builder().concurrency(2).maxInFlight(10).build();
      Inbox first = new Inbox(d -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)));
      Inbox second = new Inbox(d -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)));
      bus.subscribe(topic, group, first, opts);
      bus.subscribe(topic, group, second, opts);
      List<Message> messages = textMessages("m", 2000);
      for (int i = 0; i < messages.size(); i += 200) {
        bus.publishAllAndWait(topic, messages.subList(i, i + 200));
      }
      Await.until(
          timeouts().await(),
          () ->
              "2000 messages were handled by the two members (got "
                  + first.size()
                  + " + "
                  + second.size()
                  + ")",
          () -> {
            Set<String> all = new HashSet<>(first.distinctIds());
            all.addAll(second.distinctIds());
            return all.size() >= messages.size();
          });
      quietPeriod();
      List<String> both = new ArrayList<>(first.ids());
      both.addAll(second.ids());
      assertOnlyAndOnce(both, idsOf(messages), "two members of one group together");
      if (declaredCapabilities().competingConsumers()) {
        assertThat(first.size())
            .as("messages handled by the first member (the second handled %d)", second.size())
            .isPositive();
        assertThat(second.size())
            .as("messages handled by the second member (the first handled %d)", first.size())
            .isPositive();
      } else {
        // Without competingConsumers one member is active and the other stands by: all work lands
        // on one of them.
        assertThat(Math.min(first.size(), second.size()))
            .as(
                "a backend without competingConsumers has one active member (handled %d and %d)",
                first.size(), second.size())
            .isZero();
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldDeliverEveryMessageOfEightConcurrentPublishers() throws Exception {
    int threads = 8;
    int perThread = 250;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (Polybus bus = connect()) {
      String topic = uniqueName("publishers");
      Inbox inbox = new Inbox();
      bus.subscribe(topic, uniqueName("g"), inbox);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<String>>> published = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        published.add(
            pool.submit(
                () -> {
                  start.await();
                  List<String> ids = new ArrayList<>();
                  List<CompletableFuture<PublishReceipt>> receipts = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    Message m = Message.of("publisher-" + thread + "-" + i);
                    ids.add(m.id());
                    if (ThreadLocalRandom.current().nextBoolean()) {
                      receipts.add(bus.publish(topic, m));
                    } else {
                      bus.publishAndWait(topic, m);
                    }
                  }
                  CompletableFuture.allOf(receipts.toArray(new CompletableFuture<?>[0])).join();
                  return ids;
                }));
      }
      start.countDown();
      List<String> ids = new ArrayList<>();
      for (Future<List<String>> f : published) {
        ids.addAll(f.get(timeouts().await().toMillis(), TimeUnit.MILLISECONDS));
      }
      assertThat(new HashSet<>(ids))
          .as("distinct message ids generated by 8 threads")
          .hasSize(threads * perThread);
      assertDeliveredExactlyOnce(inbox, ids, "8 threads x 250 messages");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @Timeout(120)
  default void shouldReturnReceiptsNamingTopicAndMessageId() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("receipts");
      Message one = Message.of("one");
      PublishReceipt r1 = bus.publishAndWait(topic, one);
      assertThat(r1.topic()).as("receipt topic of publishAndWait").isEqualTo(topic);
      assertThat(r1.messageId()).as("receipt message id of publishAndWait").isEqualTo(one.id());

      Message two = Message.of("two");
      PublishReceipt r2 = bus.publish(topic, two).join();
      assertThat(r2.topic()).as("receipt topic of publish").isEqualTo(topic);
      assertThat(r2.messageId()).as("receipt message id of publish").isEqualTo(two.id());

      List<Message> batch = textMessages("batch", 5);
      List<PublishReceipt> rs = bus.publishAllAndWait(topic, batch);
      assertThat(rs).as("one receipt per message of publishAllAndWait").hasSize(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        assertThat(rs.get(i).topic()).as("receipt %d topic", i).isEqualTo(topic);
        assertThat(rs.get(i).messageId())
            .as("receipt %d message id (receipts in message order)", i)
            .isEqualTo(batch.get(i).id());
      }
      List<PublishReceipt> async = bus.publishAll(topic, batch.subList(0, 2)).join();
      assertThat(async)
          .extracting(PublishReceipt::messageId)
          .as("receipts of publishAll")
          .containsExactly(batch.get(0).id(), batch.get(1).id());
    }
  }
}
