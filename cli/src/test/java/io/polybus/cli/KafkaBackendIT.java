package io.polybus.cli;

import java.nio.file.Path;

/** The round trips on Kafka at 127.0.0.1:9092 (started by scripts/services/kafka.sh). */
class KafkaBackendIT extends BackendRoundTripIT {
  @Override
  String uri(Path dir) {
    return "kafka://127.0.0.1:9092";
  }

  // A new member's first fetch waits for the group join and the partition assignment.
  @Override
  String idle() {
    return "6s";
  }
}
