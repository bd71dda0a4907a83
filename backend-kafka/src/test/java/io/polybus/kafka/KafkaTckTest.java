package io.polybus.kafka;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;

/**
 * The whole TCK against the Kafka broker that {@code scripts/services/kafka.sh} starts (or the one
 * named by the system property {@code polybus.kafka.test.uri}): ordering, replay (from the start,
 * an instant or an offset) and durability claimed; no native delayed retry (Kafka cannot hold one
 * record back), and no duplicates without failures.
 */
class KafkaTckTest implements PolybusTck {
  static String uri() {
    return System.getProperty("polybus.kafka.test.uri", "kafka://127.0.0.1:9092");
  }

  @Override
  public Polybus connect() {
    return Polybus.connect(uri());
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(true)
        .replayFromTimestamp(true)
        .replayFromOffset(true)
        .durable(true)
        .uncountedGiveBack(true)
        .nativeDelayedRetry(false)
        .mayDuplicate(false)
        .lagAccuracy(ConsumerLag.Accuracy.EXACT)
        .maxPayloadBytes(1 << 20)
        .maxHeaders(64)
        .build();
  }
}
