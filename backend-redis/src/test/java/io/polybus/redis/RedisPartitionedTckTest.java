package io.polybus.redis;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against a real Redis in partitioned mode ({@code partitions=8}): each partition
 * stream is read by one member of a group at a time, so ordering by key is declared and proven
 * here.
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class RedisPartitionedTckTest implements PolybusTck {
  static final String PREFIX = RedisTestSupport.uniquePrefix("tckp");

  @Override
  public Polybus connect() {
    return Polybus.connect(RedisTestSupport.uri(PREFIX, "partitions=8"));
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(true)
        .durable(false)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
        .uncountedGiveBack(true)
        .lagAccuracy(ConsumerLag.Accuracy.EXACT)
        .maxPayloadBytes(1 << 20)
        .maxHeaders(64)
        .maxDeliveryDelay(java.time.Duration.ofDays(30))
        .build();
  }

  @AfterAll
  static void deleteKeys() {
    RedisTestSupport.deleteKeys(PREFIX);
  }
}
