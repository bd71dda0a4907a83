/**
 * The Apache Kafka backend, {@code kafka://}. A Polybus message is a plain Kafka record (the id in
 * the {@code polybus-id} header), a group is a Kafka consumer group, an ack is an offset commit of
 * the highest contiguous acked offset, and what an offset cannot say (acks out of order, attempt
 * counts) travels in the commit metadata. Records of different keys inside one partition are
 * handled in parallel; one key stays in order.
 *
 * <p>Only {@link io.polybus.kafka.KafkaBackendProvider} is public, for the {@link
 * java.util.ServiceLoader}; use it through {@code Polybus.connect("kafka://host:9092")}.
 */
package io.polybus.kafka;
