package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Inbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Polybus messages are plain Kafka records both ways, so Polybus mixes with existing Kafka
 * applications.
 */
class KafkaInteropTest {
  private static final String BOOTSTRAP = KafkaTestSupport.bootstrap();

  @Test
  @Timeout(60)
  void shouldConsumeARecordProducedByAPlainKafkaProducer() throws Exception {
    String topic = KafkaTestSupport.unique("interop-in");
    try (Polybus bus = Polybus.connect(KafkaTckTest.uri())) {
      Inbox inbox = new Inbox();
      bus.subscribe(
          topic, "g", inbox, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      RecordMetadata md;
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", BOOTSTRAP),
              new ByteArraySerializer(),
              new ByteArraySerializer())) {
        ProducerRecord<byte[], byte[]> r =
            new ProducerRecord<>(
                topic,
                null,
                1_700_000_000_123L,
                "k-é".getBytes(StandardCharsets.UTF_8),
                new byte[] {0, 1, (byte) 255},
                List.<Header>of(
                    new RecordHeader("trace", "t-1".getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader("lang", "ünï".getBytes(StandardCharsets.UTF_8))));
        md = producer.send(r).get();
      }
      inbox.awaitSize(1, Duration.ofSeconds(30), "the record of a plain producer");
      Message m = inbox.messages().get(0);
      assertThat(m.id())
          .as("id derived from topic, partition and offset")
          .isEqualTo("kafka:" + topic + ":" + md.partition() + ":" + md.offset());
      assertThat(m.key()).isEqualTo("k-é");
      assertThat(m.payload()).containsExactly(0, 1, 255);
      assertThat(m.headers()).containsExactly(Map.entry("trace", "t-1"), Map.entry("lang", "ünï"));
      assertThat(m.timestampMillis()).isEqualTo(1_700_000_000_123L);
    }
  }

  @Test
  @Timeout(60)
  void shouldPublishAPlainRecordThatAPlainKafkaConsumerReads() {
    String topic = KafkaTestSupport.unique("interop-out");
    Message sent =
        Message.builder()
            .key("order-7")
            .payload(new byte[] {9, 8, 7})
            .header("a", "1")
            .header("b", "é")
            .timestampMillis(1_700_000_000_456L)
            .build();
    try (Polybus bus = Polybus.connect(KafkaTckTest.uri())) {
      bus.publishAndWait(topic, sent);
    }
    List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                BOOTSTRAP,
                "group.id",
                "plain-" + UUID.randomUUID(),
                "auto.offset.reset",
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(got::add);
      }
    }
    assertThat(got).as("records a plain consumer read").hasSize(1);
    ConsumerRecord<byte[], byte[]> r = got.get(0);
    assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("order-7");
    assertThat(r.value()).as("the value is the payload, no envelope").containsExactly(9, 8, 7);
    assertThat(r.timestamp()).isEqualTo(1_700_000_000_456L);
    Map<String, String> headers = new LinkedHashMap<>();
    for (Header h : r.headers()) {
      headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
    }
    assertThat(headers)
        .containsExactly(
            Map.entry("polybus-id", sent.id()), Map.entry("a", "1"), Map.entry("b", "é"));
  }
}
