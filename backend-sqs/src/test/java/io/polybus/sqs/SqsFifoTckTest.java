package io.polybus.sqs;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against ElasticMQ with FIFO queues, the message group being the key: ordered by
 * key, exactly once (a FIFO queue hands each message out once while its lease holds), no replay,
 * durable, the same payload limit as standard queues, and every give-back counted.
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class SqsFifoTckTest implements PolybusTck {
  static final String PREFIX = SqsTestSupport.uniquePrefix();

  @Override
  public Polybus connect() {
    return Polybus.connect(SqsTestSupport.uri(PREFIX, "fifo=true"));
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(false)
        .durable(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
        .uncountedGiveBack(false) // a copy would go behind later messages of its key
        .lagAccuracy(ConsumerLag.Accuracy.APPROXIMATE)
        .maxPayloadBytes(184_320)
        .maxHeaders(64)
        .build();
  }

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }
}
