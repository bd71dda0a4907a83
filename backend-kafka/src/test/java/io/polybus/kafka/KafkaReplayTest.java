package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Inbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Starting a new group at an instant or an offset, on records stamped by a plain producer, and in a
 * group that another application's consumer already keeps busy (so the admin client cannot place
 * the group and the joining member places it itself).
 */
class KafkaReplayTest {
  private static final String BOOTSTRAP = KafkaTestSupport.bootstrap();

  /**
   * 30 records of one key (one partition) stamped 1,000 ms apart from {@code base}; returns their
   * payloads.
   */
  private static List<String> produceStamped(String topic, long base) throws Exception {
    List<String> payloads = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", BOOTSTRAP),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < 30; i++) {
        String p = "m" + i;
        payloads.add(p);
        producer
            .send(
                new ProducerRecord<>(
                    topic,
                    null,
                    base + i * 1_000L,
                    "k".getBytes(StandardCharsets.UTF_8),
                    p.getBytes(StandardCharsets.UTF_8)))
            .get();
      }
    }
    return payloads;
  }

  private static List<String> payloads(Inbox inbox) {
    return inbox.messages().stream()
        .map(m -> new String(m.payload(), StandardCharsets.UTF_8))
        .collect(Collectors.toList());
  }

  private static SubscribeOptions from(StartFrom start) {
    return SubscribeOptions.builder().startFrom(start).build();
  }

  /**
   * Another application's member of {@code group}, on another topic, polling until {@code stop}:
   * the group is not empty, so the admin client may not set its offsets and the Polybus member has
   * to place its partitions itself.
   */
  private static Thread otherApplicationsMember(String group, AtomicBoolean stop) {
    Thread other =
        new Thread(
            () -> {
              try (KafkaConsumer<byte[], byte[]> c =
                  new KafkaConsumer<>(
                      Map.of(
                          "bootstrap.servers",
                          BOOTSTRAP,
                          "group.id",
                          group,
                          "partition.assignment.strategy",
                          "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
                          "auto.offset.reset",
                          "latest"),
                      new ByteArrayDeserializer(),
                      new ByteArrayDeserializer())) {
                c.subscribe(List.of(KafkaTestSupport.unique("elsewhere")));
                while (!stop.get()) {
                  c.poll(Duration.ofMillis(100));
                }
              }
            });
    other.start();
    return other;
  }

  @Test
  @Timeout(60)
  void shouldStartAtTheFirstRecordStampedAtOrAfterTheInstantByTheRecordsOwnTimestamps()
      throws Exception {
    String topic = KafkaTestSupport.unique("since");
    try (Polybus bus = Polybus.connect(KafkaTckTest.uri())) {
      bus.subscribe(topic, "creates-the-topic", new Inbox());
      List<String> sent = produceStamped(topic, 1_000_000L);
      Inbox inbox = new Inbox();
      // Between the 15th and 16th record's stamps: starts at the 16th.
      bus.subscribe(
          topic,
          KafkaTestSupport.unique("g"),
          inbox,
          from(StartFrom.timestamp(Instant.ofEpochMilli(1_000_000L + 14_500L))));
      inbox.awaitSize(15, Duration.ofSeconds(30), "records stamped at or after the instant");
      Thread.sleep(300);
      assertThat(payloads(inbox))
          .as("in partition order, nothing earlier")
          .isEqualTo(sent.subList(15, 30));
    }
  }

  @Test
  @Timeout(60)
  void shouldStartAtTheEndWhenNoRecordIsStampedAtOrAfterTheInstant() throws Exception {
    String topic = KafkaTestSupport.unique("since-future");
    try (Polybus bus = Polybus.connect(KafkaTckTest.uri())) {
      bus.subscribe(topic, "creates-the-topic", new Inbox());
      produceStamped(topic, 1_000_000L);
      Inbox inbox = new Inbox();
      bus.subscribe(
          topic,
          KafkaTestSupport.unique("g"),
          inbox,
          from(StartFrom.timestamp(Instant.ofEpochMilli(5_000_000L))));
      Message next = Message.builder().key("k").payload("after").build();
      bus.publishAndWait(topic, next);
      inbox.awaitIds(
          List.of(next.id()), Duration.ofSeconds(30), "the message published after subscribe");
      Thread.sleep(300);
      assertThat(payloads(inbox)).containsExactly("after");
    }
  }

  @Test
  @Timeout(90)
  void shouldStartAtTheOffsetWhenTheGroupAlreadyHasAnotherApplicationsMember() throws Exception {
    assertABusyGroupStartsAt(StartFrom.offset(10), System.currentTimeMillis(), 10);
  }

  @Test
  @Timeout(90)
  void shouldStartAtTheInstantWhenTheGroupAlreadyHasAnotherApplicationsMember() throws Exception {
    assertABusyGroupStartsAt(
        StartFrom.timestamp(Instant.ofEpochMilli(2_000_000L + 20_000L)), 2_000_000L, 20);
  }

  /**
   * Subscribes with {@code start} to a topic of 30 records stamped from {@code base} on, in a group
   * that another application's member keeps busy, and checks that exactly the records from index
   * {@code first} on arrive, in order.
   */
  private static void assertABusyGroupStartsAt(StartFrom start, long base, int first)
      throws Exception {
    String topic = KafkaTestSupport.unique("busy-start");
    String group = KafkaTestSupport.unique("busy");
    AtomicBoolean stop = new AtomicBoolean();
    Thread other = otherApplicationsMember(group, stop);
    try (Polybus bus = Polybus.connect(KafkaTckTest.uri())) {
      bus.subscribe(topic, "creates-the-topic", new Inbox());
      List<String> sent = produceStamped(topic, base);
      Thread.sleep(2_000); // the other member has joined
      Inbox inbox = new Inbox();
      bus.subscribe(topic, group, inbox, from(start));
      inbox.awaitSize(30 - first, Duration.ofSeconds(30), "records from " + start + " on");
      Thread.sleep(300);
      assertThat(payloads(inbox))
          .as("record " + (first + 1) + " on, in order")
          .isEqualTo(sent.subList(first, 30));
    } finally {
      stop.set(true);
      other.join(10_000);
    }
  }
}
