package io.polybus.redis;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against a real Redis, one stream per topic: no ordering by key (members of a group
 * read one stream in any order), not durable (a Redis reply does not mean the entry reached a
 * disk).
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class RedisTckTest implements PolybusTck {
  static final String PREFIX = RedisTestSupport.uniquePrefix("tck");

  @Override
  public Polybus connect() {
    return Polybus.connect(RedisTestSupport.uri(PREFIX, ""));
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(false)
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
