package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The Kafka record mapping, published and read back without a broker. */
class KafkaMappingTest {
  private static final String TOPIC = "orders";

  @Test
  void shouldReadBackWhatItPublishesIdKeyPayloadHeadersInOrderAndTimestamp() {
    Message sent =
        Message.builder()
            .id("m-1")
            .key("order-7")
            .payload(new byte[] {9, 8, 7})
            .header("z", "1")
            .header("a", "é")
            .header("m", "")
            .timestampMillis(1_700_000_000_456L)
            .build();

    ProducerRecord<byte[], byte[]> record = KafkaMapping.toRecord(TOPIC, null, sent);

    assertThat(record.topic()).isEqualTo(TOPIC);
    assertThat(record.partition()).as("no partition: the producer partitions by key").isNull();
    assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("order-7");
    assertThat(record.value()).as("the value is the payload, no envelope").containsExactly(9, 8, 7);
    assertThat(record.timestamp()).isEqualTo(1_700_000_000_456L);
    List<String> names = new ArrayList<>();
    for (Header h : record.headers()) {
      names.add(h.key());
    }
    assertThat(names)
        .as("the id first, then the headers in order")
        .containsExactly(KafkaMapping.ID_HEADER, "z", "a", "m");

    Message read = KafkaMapping.toMessage(fetched(record, 3, 42));
    assertThat(read).isEqualTo(sent);
    assertThat(read.headers())
        .containsExactly(Map.entry("z", "1"), Map.entry("a", "é"), Map.entry("m", ""));
  }

  @Test
  void shouldPublishToTheGivenPartitionWhenOneIsChosen() {
    ProducerRecord<byte[], byte[]> record = KafkaMapping.toRecord(TOPIC, 2, Message.of("x"));
    assertThat(record.partition()).isEqualTo(2);
    assertThat(record.key()).isNull();
  }

  @Test
  void shouldRoundTripNoKeyAndAnEmptyPayload() {
    Message sent = Message.builder().id("m-2").payload(new byte[0]).timestampMillis(5).build();

    ProducerRecord<byte[], byte[]> record = KafkaMapping.toRecord(TOPIC, null, sent);
    assertThat(record.key()).isNull();
    assertThat(record.value()).isEmpty();

    Message read = KafkaMapping.toMessage(fetched(record, 0, 0));
    assertThat(read).isEqualTo(sent);
    assertThat(read.key()).isNull();
    assertThat(read.headers()).isEmpty();
  }

  @Test
  void shouldReadARecordOfAnotherClientWithAnIdFromItsPositionAndNoKeyForAnEmptyOne() {
    RecordHeaders headers = new RecordHeaders();
    headers.add("trace", null);
    ConsumerRecord<byte[], byte[]> foreign =
        new ConsumerRecord<>(
            TOPIC,
            4,
            17,
            1234L,
            TimestampType.CREATE_TIME,
            0,
            0,
            new byte[0],
            null,
            headers,
            Optional.empty());

    Message read = KafkaMapping.toMessage(foreign);

    assertThat(read.id()).isEqualTo("kafka:orders:4:17");
    assertThat(read.key()).as("an empty key is no key").isNull();
    assertThat(read.payload()).as("a tombstone reads as an empty payload").isEmpty();
    assertThat(read.headers())
        .as("a null header value reads as empty")
        .containsExactly(Map.entry("trace", ""));
    assertThat(read.timestampMillis()).isEqualTo(1234L);
  }

  @Test
  void shouldTakeTheIdFromThePositionWhenTheIdHeaderIsEmpty() {
    RecordHeaders headers = new RecordHeaders();
    headers.add(KafkaMapping.ID_HEADER, new byte[0]);
    ConsumerRecord<byte[], byte[]> r =
        new ConsumerRecord<>(
            TOPIC,
            0,
            9,
            1L,
            TimestampType.CREATE_TIME,
            0,
            0,
            null,
            new byte[] {1},
            headers,
            Optional.empty());
    assertThat(KafkaMapping.toMessage(r).id()).isEqualTo("kafka:orders:0:9");
  }

  @Test
  void shouldDecodeLazilyToTheSameMessageAsFully() {
    List<ConsumerRecord<byte[], byte[]>> records =
        List.of(
            fetched(
                KafkaMapping.toRecord(
                    TOPIC,
                    null,
                    Message.builder()
                        .id("a")
                        .key("k")
                        .payload("p")
                        .header("h1", "v1")
                        .header("h2", "v2")
                        .timestampMillis(77)
                        .build()),
                1,
                5),
            fetched(
                KafkaMapping.toRecord(
                    TOPIC,
                    null,
                    Message.builder().id("b").payload(new byte[0]).timestampMillis(78).build()),
                0,
                6),
            new ConsumerRecord<>(
                TOPIC,
                2,
                8,
                79L,
                TimestampType.CREATE_TIME,
                0,
                0,
                new byte[0],
                null,
                new RecordHeaders(),
                Optional.empty()));
    for (ConsumerRecord<byte[], byte[]> r : records) {
      Message lazy = KafkaMapping.toLazyMessage(r);
      Message full = KafkaMapping.toMessage(r);
      assertThat(lazy.key()).isEqualTo(full.key());
      assertThat(lazy.payload()).isEqualTo(full.payload());
      assertThat(lazy.timestampMillis()).isEqualTo(full.timestampMillis());
      assertThat(lazy.id()).isEqualTo(full.id());
      assertThat(lazy.headers()).containsExactlyEntriesOf(full.headers());
      assertThat(lazy).isEqualTo(full);
    }
  }

  /** The record a consumer fetches for {@code sent}, as the broker stores it. */
  private static ConsumerRecord<byte[], byte[]> fetched(
      ProducerRecord<byte[], byte[]> sent, int partition, long offset) {
    return new ConsumerRecord<>(
        sent.topic(),
        partition,
        offset,
        sent.timestamp(),
        TimestampType.CREATE_TIME,
        sent.key() == null ? -1 : sent.key().length,
        sent.value() == null ? -1 : sent.value().length,
        sent.key(),
        sent.value(),
        new RecordHeaders(sent.headers().toArray()),
        Optional.empty());
  }
}
