package io.polybus.sqs;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against ElasticMQ with standard queues: no ordering by key, no replay (a new
 * group's queue starts empty), durable (SQS stores a message redundantly before it answers), at
 * least once (standard queues may hand out a stored copy twice), give-backs of deliveries no
 * handler started uncounted (sent again as copies), and 184,320-byte payloads (a 256 KiB message,
 * binary payloads in base64, 16 KiB kept for attributes).
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class SqsTckTest implements PolybusTck {
  static final String PREFIX = SqsTestSupport.uniquePrefix();

  @Override
  public Polybus connect() {
    return Polybus.connect(SqsTestSupport.uri(PREFIX, ""));
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(false)
        .replay(false)
        .durable(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(true)
        .uncountedGiveBack(true)
        .lagAccuracy(ConsumerLag.Accuracy.APPROXIMATE)
        .maxPayloadBytes(184_320)
        .maxHeaders(64)
        .maxDeliveryDelay(java.time.Duration.ofMinutes(15))
        .build();
  }

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }
}
