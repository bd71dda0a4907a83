package io.polybus.rabbitmq;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterEach;

/**
 * The whole TCK against a real RabbitMQ in partitioned mode ({@code partitions=4}): each group is
 * four quorum queues with a single active consumer each, so {@code Ordering.KEY} is declared and
 * proven.
 *
 * <p>One case is opted out, visibly: RabbitMQ 3.10 makes the first registered consumer of a
 * single-active-consumer queue the active one, and gives AMQP 0-9-1 clients no way to see or move
 * that, so in this mode the first member of a group takes every partition and later members are hot
 * standbys (they take over when it leaves or dies, which the lifecycle and dead-letter cases
 * prove). Members do not share the work.
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
        .competingConsumers(
            false) // single active consumer per partition: later members are standbys
        .lagAccuracy(ConsumerLag.Accuracy.APPROXIMATE)
        .maxPayloadBytes(16 << 20)
        .maxHeaders(64)
        .maxDeliveryDelay(java.time.Duration.ofDays(30))
        .build();
  }

  /**
   * After each case, not once at the end: a classic queue holds about three of the broker's file
   * handles, whose budget is derived from its open-files limit (927 under the usual 1024), and a
   * whole TCK run declares hundreds of queues; the broker stops accepting connections once the
   * budget is spent.
   */
  @AfterEach
  void deleteWhatTheTckDeclared() throws Exception {
    TestBroker.deleteDeclared();
  }
}
