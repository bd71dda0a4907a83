package io.polybus.postgres;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against the shared PostgreSQL, in a schema of its own: ordered by key (head-of-key
 * leasing), replay from everything retained (also from a timestamp or an offset), durable (a
 * publish completes after its commit), delayed retries as due times.
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class PostgresTckTest implements PolybusTck {
  static final String SCHEMA = PgTestSupport.uniqueSchema("tck");

  @Override
  public Polybus connect() {
    return Polybus.connect(PgTestSupport.uri(SCHEMA, ""));
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(true)
        .replayFromTimestamp(true)
        .replayFromOffset(true)
        .durable(true)
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
  static void dropSchema() {
    PgTestSupport.dropSchema(SCHEMA);
  }
}
