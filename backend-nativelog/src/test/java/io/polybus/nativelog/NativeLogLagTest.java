package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.AckMode;
import io.polybus.ConsumerLag;
import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Polybus#lag} on {@code log:}: partition ends minus what the group's state files say is
 * settled, per partition, and the partition each record reports.
 */
@Timeout(120)
class NativeLogLagTest {
  @TempDir Path dir;

  /** Subscribes and closes at once: the group exists (placed at the end) with no member. */
  private static void createGroup(Polybus bus, String topic, String group) {
    bus.subscribe(topic, group, d -> {}).close();
  }

  private static List<Message> keyed(int n) {
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Message.of("k" + i, "m" + i));
    }
    return out;
  }

  private static String partitionOf(PublishReceipt r) {
    return r.position().substring(0, r.position().indexOf('@'));
  }

  /** Reads the lag until it matches, at most {@code within}; returns the last figure read. */
  private static ConsumerLag awaitLag(
      Polybus bus, String topic, String group, Duration within, Predicate<ConsumerLag> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    ConsumerLag lag = bus.lag(topic, group);
    while (!done.test(lag) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      lag = bus.lag(topic, group);
    }
    return lag;
  }

  @Test
  void lagCountsPublishedMessagesNotYetSettledByTheGroup() throws Exception {
    String topic = "lag";
    String group = topic + "-g";
    Map<String, String> partitionSeen = new ConcurrentHashMap<>();
    Instrumentation seePartitions =
        bus ->
            new Instrumentation.Observer() {
              @Override
              public Instrumentation.Attempt attempting(Delivery delivery, String partition) {
                partitionSeen.put(delivery.message().id(), String.valueOf(partition));
                return null;
              }
            };
    try (Polybus bus = Polybus.connect("log:" + dir + "?partitions=4", seePartitions)) {
      assertThat(bus.capabilities().lagAccuracy()).isEqualTo(ConsumerLag.Accuracy.EXACT);
      createGroup(bus, topic, group);
      assertThat(bus.lag(topic, group).total()).as("placed at the end of an empty topic").isZero();

      List<PublishReceipt> receipts = bus.publishAllAndWait(topic, keyed(1000));
      Map<String, Long> perPartition = new HashMap<>();
      receipts.forEach(r -> perPartition.merge(partitionOf(r), 1L, Long::sum));
      assertThat(perPartition).as("the keys spread over several partitions").hasSizeGreaterThan(1);

      ConsumerLag lag = bus.lag(topic, group);
      assertThat(lag.topic()).isEqualTo(topic);
      assertThat(lag.group()).isEqualTo(group);
      assertThat(lag.accuracy()).isEqualTo(ConsumerLag.Accuracy.EXACT);
      assertThat(lag.total()).isEqualTo(1000);
      assertThat(lag.partitions()).containsOnlyKeys("0", "1", "2", "3");
      assertThat(lag.partitions().values().stream().mapToLong(Long::longValue).sum())
          .isEqualTo(1000);
      perPartition.forEach((p, n) -> assertThat(lag.partitions()).containsEntry(p, n));
      assertThat(lag.oldestAge()).as("not reported: it would mean reading a record").isEmpty();

      CountDownLatch all = new CountDownLatch(1000);
      try (Subscription s = bus.subscribe(topic, group, d -> all.countDown())) {
        assertThat(all.await(60, TimeUnit.SECONDS)).as("all 1000 handled").isTrue();
        ConsumerLag after =
            awaitLag(bus, topic, group, Duration.ofSeconds(10), l -> l.total() == 0);
        assertThat(after.total()).as("every message acked and committed").isZero();
        assertThat(after.partitions()).containsOnlyKeys("0", "1", "2", "3");
      }
      for (PublishReceipt r : receipts) {
        assertThat(partitionSeen.get(r.messageId()))
            .as("the record's partition() is the receipt's")
            .isEqualTo(partitionOf(r));
      }
    }
  }

  @Test
  void lagCountsOnlyTheRecordStillHeldWhenLaterRecordsOfItsPartitionAreAcked() throws Exception {
    String topic = "lag-held";
    String group = topic + "-g";
    try (Polybus bus = Polybus.connect("log:" + dir + "?partitions=1")) {
      createGroup(bus, topic, group);
      List<Message> messages = keyed(50);
      String heldId = messages.get(0).id();
      bus.publishAllAndWait(topic, messages);
      AtomicReference<Delivery> held = new AtomicReference<>();
      CountDownLatch others = new CountDownLatch(49);
      try (Subscription s =
          bus.subscribe(
              topic,
              group,
              d -> {
                if (d.message().id().equals(heldId)) {
                  held.set(d); // left unsettled until the test acks it
                } else {
                  d.ack();
                  others.countDown();
                }
              },
              SubscribeOptions.builder()
                  .ackMode(AckMode.MANUAL)
                  .ackTimeout(Duration.ofSeconds(90))
                  .build())) {
        assertThat(others.await(30, TimeUnit.SECONDS)).as("left: %s", others.getCount()).isTrue();
        // The committed offset stays at the held record; the 49 acks after it are in the state's
        // bitmap, written as each is acked.
        ConsumerLag one = bus.lag(topic, group);
        assertThat(one.total()).as("only the record still held").isEqualTo(1);
        assertThat(one.partitions()).containsExactly(Map.entry("0", 1L));
        held.get().ack();
        assertThat(bus.lag(topic, group).total()).as("an ack shows at once").isZero();
      }
    }
  }

  @Test
  void lagIsZeroForAGroupNeverPlacedAndForATopicThatDoesNotExist() {
    String topic = "lag-unknown";
    try (Polybus bus = Polybus.connect("log:" + dir + "?partitions=2")) {
      ConsumerLag none = bus.lag(topic, "nobody");
      assertThat(none.total()).isZero();
      assertThat(none.partitions()).isEmpty();
      assertThat(dir.resolve("topics").resolve(topic))
          .as("the topic was not created")
          .doesNotExist();

      bus.publishAllAndWait(topic, keyed(10));
      ConsumerLag neverPlaced = bus.lag(topic, "nobody");
      assertThat(neverPlaced.total())
          .as("no state files: a new group would start at the end, as LATEST does")
          .isZero();
      assertThat(neverPlaced.partitions()).containsOnlyKeys("0", "1");
    }
  }
}
