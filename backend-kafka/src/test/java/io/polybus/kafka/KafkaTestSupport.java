package io.polybus.kafka;

import io.polybus.PolybusOptions;
import java.util.UUID;

/** Shared helpers of the Kafka-specific tests. */
final class KafkaTestSupport {
  private KafkaTestSupport() {}

  /** The bootstrap servers of the test broker, from the TCK's URI. */
  static String bootstrap() {
    return new KafkaSettings(PolybusOptions.parse(KafkaTckTest.uri())).bootstrap;
  }

  static String unique(String area) {
    return "kafka-" + area + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
