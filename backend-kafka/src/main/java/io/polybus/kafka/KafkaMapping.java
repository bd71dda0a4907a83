package io.polybus.kafka;

import io.polybus.Message;
import io.polybus.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The mapping between a Polybus {@link Message} and a plain Kafka record, both directions.
 *
 * <pre>
 * topic      -> the Kafka topic of the same name (portable names are legal Kafka names)
 * key        -> record key, UTF-8 (null for no key)
 * payload    -> record value, as-is (no envelope)
 * id         -> first record header, {@value #ID_HEADER}, UTF-8
 * headers    -> record headers after it, UTF-8 values, in the message's order
 * timestamp  -> record timestamp (milliseconds)
 * </pre>
 *
 * A record from another Kafka client is read as: id = its {@value #ID_HEADER} header when not
 * empty, else {@code kafka:<topic>:<partition>:<offset>} (stable across redeliveries); an empty or
 * null key = no key; a null value (a tombstone) = an empty payload; a header with a null value = an
 * empty value.
 *
 * <p>Stateless; every method is safe on any thread. Reading is on the consume hot path: it
 * allocates only what the message keeps, and decodes the id and headers only when a handler asks
 * ({@link #toLazyMessage}).
 */
final class KafkaMapping {
  static final String ID_HEADER = "polybus-id";

  private KafkaMapping() {}

  /**
   * The record {@code m} is published as; {@code partition} null lets the producer's partitioner
   * choose (by key). The payload array is shared with the message, not copied.
   */
  static ProducerRecord<byte[], byte[]> toRecord(String topic, Integer partition, Message m) {
    byte[] key = m.key() == null ? null : m.key().getBytes(StandardCharsets.UTF_8);
    ProducerRecord<byte[], byte[]> record =
        new ProducerRecord<>(topic, partition, m.timestampMillis(), key, Messages.payloadNoCopy(m));
    // Added to the record's own header list: building a RecordHeaders first and handing it over
    // copies it twice.
    org.apache.kafka.common.header.Headers headers = record.headers();
    headers.add(new RecordHeader(ID_HEADER, m.id().getBytes(StandardCharsets.UTF_8)));
    for (Map.Entry<String, String> e : m.headers().entrySet()) {
      headers.add(new RecordHeader(e.getKey(), e.getValue().getBytes(StandardCharsets.UTF_8)));
    }
    return record;
  }

  /**
   * A Kafka record as a Polybus message whose id and headers are decoded from the record headers on
   * first use: a handler that reads neither spares the decoding of every header name and value, a
   * quarter of the CPU time of a delivery (see {@link Messages#restoreLazily}). The runtime itself
   * orders by the record's raw key bytes ({@link PartitionLeases.KRecord#orderingKey()}). Equal to
   * {@link #toMessage} of the same record.
   */
  static Message toLazyMessage(ConsumerRecord<byte[], byte[]> cr) {
    String key = cr.key() == null ? null : new String(cr.key(), StandardCharsets.UTF_8);
    byte[] payload = cr.value() == null ? new byte[0] : cr.value();
    return Messages.restoreLazily(key, payload, cr.timestamp(), () -> toMessage(cr));
  }

  /** A Kafka record as a Polybus message, decoded completely. */
  static Message toMessage(ConsumerRecord<byte[], byte[]> cr) {
    String id = null;
    Map<String, String> headers = null; // most records carry only the id: no map for them
    for (Header h : cr.headers()) {
      String value = h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
      if (h.key().equals(ID_HEADER)) {
        id = value;
      } else {
        if (headers == null) {
          headers = new LinkedHashMap<>();
        }
        headers.put(h.key(), value);
      }
    }
    if (headers == null) {
      headers = Map.of();
    }
    if (id == null || id.isEmpty()) {
      id = "kafka:" + cr.topic() + ":" + cr.partition() + ":" + cr.offset();
    }
    String key = cr.key() == null ? null : new String(cr.key(), StandardCharsets.UTF_8);
    byte[] payload = cr.value() == null ? new byte[0] : cr.value();
    return Messages.restore(id, key, payload, headers, cr.timestamp());
  }
}
