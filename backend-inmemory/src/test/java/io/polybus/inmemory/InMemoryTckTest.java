package io.polybus.inmemory;

import io.polybus.Capabilities;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;

/**
 * The whole TCK against {@code mem:}: the reference backend declares every capability but
 * durability.
 */
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
        .maxPayloadBytes(1 << 20)
        .maxHeaders(64)
        .build();
  }
}
