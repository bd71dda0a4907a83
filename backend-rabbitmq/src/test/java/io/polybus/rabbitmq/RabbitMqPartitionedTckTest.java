package io.polybus.rabbitmq;

import io.polybus.Capabilities;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterAll;

/**
 * The whole TCK against a real RabbitMQ in partitioned mode ({@code partitions=4}): each group is four quorum
 * queues with a single active consumer each, so {@code Ordering.KEY} is declared and proven.
 */
class RabbitMqPartitionedTckTest implements PolybusTck {
  static {
    TestBroker.record();
  }

  @Override
  public Polybus connect() {
    return Polybus.connect(TestBroker.URI + "?partitions=4");
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(false)
        .durable(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
        .maxPayloadBytes(16 << 20)
        .maxHeaders(64)
        .build();
  }

  @AfterAll
  static void deleteWhatTheTckDeclared() throws Exception {
    TestBroker.deleteDeclared();
  }
}
