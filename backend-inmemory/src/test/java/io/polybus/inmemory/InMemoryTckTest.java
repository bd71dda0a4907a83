package io.polybus.inmemory;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against {@code mem:}: the reference backend declares every capability but
 * durability.
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class InMemoryTckTest implements PolybusTck {
  @Override
  public Polybus connect() {
    return Polybus.connect("mem:");
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(true)
        .replayFromTimestamp(true)
        .replayFromOffset(true)
        .durable(false)
        .uncountedGiveBack(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
        .lagAccuracy(ConsumerLag.Accuracy.EXACT)
        .maxPayloadBytes(1 << 20)
        .maxHeaders(64)
        .maxDeliveryDelay(java.time.Duration.ofDays(30))
        .build();
  }
}
