package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.ConsumerLag;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code Polybus.lag} against the real broker: ready messages of the group's queues, plus what this
 * bus's members hold unacknowledged, plus the group's wait queues.
 */
@Timeout(90)
class RabbitMqLagTest {
  private static final Duration AWAIT = Duration.ofSeconds(30);

  static {
    TestBroker.record();
  }

  @AfterAll
  static void deleteWhatTheTestsDeclared() throws Exception {
    TestBroker.deleteDeclared();
  }

  private static String unique(String what) {
    return what + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static List<Message> messages(int n) {
    List<Message> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(
          Message.builder()
              .key("k" + i)
              .payload(("m" + i).getBytes(StandardCharsets.UTF_8))
              .build());
    }
    return out;
  }

  private static void awaitLag(Polybus bus, String topic, String group, long expected) {
    Await.until(
        AWAIT,
        () -> "lag of " + group + " to reach " + expected + ", is " + bus.lag(topic, group),
        () -> {
          if (bus.lag(topic, group).total() == expected) {
            return true;
          }
          Await.quietFor(Duration.ofMillis(50));
          return false;
        });
  }

  @Test
  void lagCountsPublishedMessagesNotYetSettledByTheGroup() {
    String topic = unique("lag");
    try (Polybus bus = Polybus.connect(TestBroker.URI)) {
      assertThat(bus.capabilities().lagAccuracy()).isEqualTo(ConsumerLag.Accuracy.APPROXIMATE);
      bus.subscribe(topic, "g", new Inbox()).close();
      assertThat(bus.lag(topic, "g").total()).isZero();

      bus.publishAllAndWait(topic, messages(1000));
      awaitLag(bus, topic, "g", 1000);
      assertThat(bus.lag(topic, "g").partitions()).isEmpty();

      Inbox inbox = new Inbox();
      try (Subscription s = bus.subscribe(topic, "g", inbox)) {
        inbox.awaitSize(1000, AWAIT, "every message");
        awaitLag(bus, topic, "g", 0);
      }
    }
  }

  @Test
  void lagOfAPartitionedGroupHasEachPartitionQueuesShare() {
    String topic = unique("lagp");
    try (Polybus bus = Polybus.connect(TestBroker.URI + "?partitions=4")) {
      bus.subscribe(topic, "g", new Inbox()).close();
      bus.publishAllAndWait(topic, messages(1000));
      awaitLag(bus, topic, "g", 1000);
      ConsumerLag lag = bus.lag(topic, "g");
      assertThat(lag.partitions()).containsOnlyKeys("0", "1", "2", "3");
      assertThat(lag.partitions().values()).allMatch(n -> n > 0);

      Inbox inbox = new Inbox();
      try (Subscription s = bus.subscribe(topic, "g", inbox)) {
        inbox.awaitSize(1000, AWAIT, "every message");
        awaitLag(bus, topic, "g", 0);
      }
      assertThat(bus.lag(topic, "g").partitions())
          .containsOnly(
              Map.entry("0", 0L), Map.entry("1", 0L), Map.entry("2", 0L), Map.entry("3", 0L));
    }
  }

  @Test
  void lagIncludesDeliveriesHeldByAMemberAndRetriesWaitingInAWaitQueue() throws Exception {
    String topic = unique("lag-held");
    try (Polybus bus = Polybus.connect(TestBroker.URI)) {
      bus.subscribe(topic, "g", new Inbox()).close();
      bus.publishAllAndWait(topic, messages(10));
      awaitLag(bus, topic, "g", 10);
      CountDownLatch release = new CountDownLatch(1);
      AtomicInteger seen = new AtomicInteger();
      try (Subscription s =
          bus.subscribe(
              topic,
              "g",
              d -> {
                if (seen.incrementAndGet() <= 5) {
                  release.await();
                } else {
                  d.retry(Duration.ofMinutes(10));
                }
              },
              SubscribeOptions.builder().concurrency(10).build())) {
        Await.until(AWAIT, "all 10 delivered", () -> seen.get() >= 10);
        awaitLag(bus, topic, "g", 10);
        Await.quietFor(Duration.ofMillis(300));
        assertThat(bus.lag(topic, "g").total())
            .as("5 held by the handler, 5 in the wait queue")
            .isEqualTo(10);
        release.countDown();
        awaitLag(bus, topic, "g", 5);
      }
      assertThat(bus.lag(topic, "g").total()).as("the retries still wait").isEqualTo(5);
    }
  }

  @Test
  void lagOfAGroupWithoutAQueueIsZero() {
    String topic = unique("lag-none");
    try (Polybus bus = Polybus.connect(TestBroker.URI)) {
      bus.publishAllAndWait(topic, messages(3));
      assertThat(bus.lag(topic, "nobody").total()).as("the broker keeps nothing for it").isZero();
      // The 404 closed only the probe channel: the bus goes on.
      assertThat(bus.lag(topic, "nobody").total()).isZero();
      bus.publishAndWait(topic, Message.of("still publishing"));
    }
  }
}
