package io.polybus.sqs;

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
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@code Polybus.lag} against ElasticMQ: the group queue's approximate counts, waiting plus not
 * visible (in flight or waiting for a delayed retry) plus delayed.
 */
@Timeout(120)
class SqsLagTest {
  static final String PREFIX = SqsTestSupport.uniquePrefix();

  /** SQS's counts may trail the queue for about a minute; ElasticMQ's do not. */
  static final Duration AWAIT = Duration.ofSeconds(60);

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }

  private static Polybus connect() {
    return Polybus.connect(SqsTestSupport.uri(PREFIX, ""));
  }

  private static String unique(String what) {
    return what + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static List<Message> messages(int n) {
    List<Message> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(Message.of(("m" + i).getBytes(StandardCharsets.UTF_8)));
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
          Await.quietFor(Duration.ofMillis(100));
          return false;
        });
  }

  @Test
  void lagCountsPublishedMessagesNotYetSettledByTheGroup() {
    String topic = unique("lag");
    try (Polybus bus = connect()) {
      assertThat(bus.capabilities().lagAccuracy()).isEqualTo(ConsumerLag.Accuracy.APPROXIMATE);
      bus.subscribe(topic, "g", new Inbox()).close();
      assertThat(bus.lag(topic, "g").total()).isZero();

      bus.publishAllAndWait(topic, messages(1000));
      awaitLag(bus, topic, "g", 1000);
      ConsumerLag lag = bus.lag(topic, "g");
      assertThat(lag.accuracy()).isEqualTo(ConsumerLag.Accuracy.APPROXIMATE);
      assertThat(lag.partitions()).isEmpty();

      Inbox inbox = new Inbox();
      try (Subscription s = bus.subscribe(topic, "g", inbox)) {
        inbox.awaitSize(1000, AWAIT, "every message");
        awaitLag(bus, topic, "g", 0);
      }
    }
  }

  @Test
  void lagIncludesMessagesHeldByAMemberAndRetriesWaitingOutTheirVisibilityTimeout()
      throws Exception {
    String topic = unique("lag-held");
    try (Polybus bus = connect()) {
      bus.subscribe(topic, "g", new Inbox()).close();
      bus.publishAllAndWait(topic, messages(10));
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
        assertThat(bus.lag(topic, "g").total())
            .as("5 held by the handler, 5 invisible until their retry is due")
            .isEqualTo(10);
        release.countDown();
        awaitLag(bus, topic, "g", 5);
      }
    }
  }

  @Test
  void lagOfAGroupWithoutAQueueIsZeroAndDoesNotCreateTheQueue() {
    String topic = unique("lag-none");
    try (Polybus bus = connect();
        SqsClient sqs = SqsTestSupport.client()) {
      bus.publishAllAndWait(topic, messages(3));
      assertThat(bus.lag(topic, "nobody").total()).as("nothing is kept for it").isZero();
      assertThat(
              sqs.listQueues(b -> b.queueNamePrefix(new SqsNames(PREFIX, false).topicPrefix(topic)))
                  .queueUrls())
          .isEmpty();
    }
  }
}
