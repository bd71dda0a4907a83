package io.polybus.rabbitmq;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterEach;

/**
 * The whole TCK against a real RabbitMQ in the default mode: one quorum queue per group, competing
 * consumers, so no per-key order ({@code orderedByKey} absent: the ordering cases skip by that
 * name, and only those).
 */
class RabbitMqTckTest implements PolybusTck {
  static {
    TestBroker.record();
  }

  @Override
  public Polybus connect() {
    return Polybus.connect(TestBroker.URI);
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(false)
        .replay(false)
        .durable(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
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
