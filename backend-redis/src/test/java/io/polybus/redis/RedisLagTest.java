package io.polybus.redis;

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
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.RedisClient;

/**
 * {@code Polybus.lag} against the real server: the group's pending entries plus what it was not
 * delivered yet, per partition stream, after trims and deletions.
 */
@Timeout(60)
class RedisLagTest {
  static final String PREFIX = RedisTestSupport.uniquePrefix("lag");
  static final Duration AWAIT = Duration.ofSeconds(20);

  @AfterAll
  static void deleteKeys() {
    RedisTestSupport.deleteKeys(PREFIX);
  }

  private static Polybus connect(String extra) {
    return Polybus.connect(RedisTestSupport.uri(PREFIX, extra));
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
        () -> bus.lag(topic, group).total() == expected);
  }

  @Test
  void lagCountsPublishedMessagesNotYetSettledByTheGroup() {
    String topic = unique("lag");
    try (Polybus bus = connect("")) {
      assertThat(bus.capabilities().lagAccuracy()).isEqualTo(ConsumerLag.Accuracy.EXACT);
      bus.subscribe(topic, "g", new Inbox()).close();
      assertThat(bus.lag(topic, "g").total()).isZero();

      bus.publishAllAndWait(topic, messages(1000));
      ConsumerLag lag = bus.lag(topic, "g");
      assertThat(lag.total()).isEqualTo(1000);
      assertThat(lag.partitions()).isEmpty();
      assertThat(lag.accuracy()).isEqualTo(ConsumerLag.Accuracy.EXACT);
      assertThat(lag.oldestAge()).as("from the first entry's id").isPresent();
      assertThat(lag.oldestAge().get()).isLessThan(Duration.ofMinutes(1));

      Inbox inbox = new Inbox();
      try (Subscription s = bus.subscribe(topic, "g", inbox)) {
        inbox.awaitSize(1000, AWAIT, "every message");
        awaitLag(bus, topic, "g", 0);
      }
      ConsumerLag settled = bus.lag(topic, "g");
      assertThat(settled.total()).isZero();
      assertThat(settled.oldestAge()).isEmpty();
    }
  }

  @Test
  void lagOfAPartitionedTopicHasEachPartitionStreamsShare() {
    String topic = unique("lagp");
    try (Polybus bus = connect("partitions=4");
        RedisClient raw = RedisTestSupport.client()) {
      bus.subscribe(topic, "g", new Inbox()).close();
      bus.publishAllAndWait(topic, messages(1000));

      ConsumerLag lag = bus.lag(topic, "g");
      assertThat(lag.total()).isEqualTo(1000);
      assertThat(lag.partitions()).containsOnlyKeys("0", "1", "2", "3");
      for (Map.Entry<String, Long> p : lag.partitions().entrySet()) {
        assertThat(p.getValue())
            .as("partition " + p.getKey())
            .isEqualTo(raw.xlen(PREFIX + topic + ":p" + p.getKey()));
      }

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
  void lagIncludesDeliveriesHeldByAMemberAndRetriesWaitingInTheDelayedSet() throws Exception {
    String topic = unique("lag-held");
    try (Polybus bus = connect("")) {
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
            .as("5 held by the handler, 5 parked for a retry")
            .isEqualTo(10);
        release.countDown();
        awaitLag(bus, topic, "g", 5);
        Await.quietFor(Duration.ofMillis(300));
        assertThat(bus.lag(topic, "g").total()).as("the parked retries").isEqualTo(5);
      }
    }
  }

  @Test
  void lagOfAGroupNotCreatedYetAndOfAnUnknownTopicIsZero() {
    String topic = unique("lag-new");
    try (Polybus bus = connect("")) {
      assertThat(bus.lag(topic, "g").total()).as("no stream").isZero();
      bus.publishAllAndWait(topic, messages(7));
      ConsumerLag lag = bus.lag(topic, "nobody-yet");
      assertThat(lag.total())
          .as("a new group starts at the tail unless it asks otherwise, as on every backend")
          .isZero();
      assertThat(lag.oldestAge()).isEmpty();
    }
  }

  @Test
  void lagCountsOnlyTheUndeliveredEntriesATrimLeft() {
    String topic = unique("lag-trim");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      bus.subscribe(topic, "g", new Inbox()).close();
      bus.publishAllAndWait(topic, messages(100));
      raw.sendCommand(Command.XTRIM, PREFIX + topic, "MAXLEN", "10");
      // Redis's own XINFO GROUPS lag still says 100 here.
      assertThat(bus.lag(topic, "g").total()).isEqualTo(10);
    }
  }

  @Test
  void lagAfterADeletionIsCountedEntryByEntry() {
    String topic = unique("lag-del");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      bus.subscribe(topic, "g", new Inbox()).close();
      List<String> positions = new ArrayList<>();
      bus.publishAllAndWait(topic, messages(2500)).forEach(r -> positions.add(r.position()));
      // A deleted entry after the group's last delivered one leaves Redis without a lag figure.
      raw.sendCommand(Command.XDEL, PREFIX + topic, positions.get(1200));
      assertThat(bus.lag(topic, "g").total()).isEqualTo(2499);
    }
  }
}
