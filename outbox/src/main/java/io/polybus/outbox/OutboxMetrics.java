package io.polybus.outbox;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters of an {@link OutboxRelay}. Needs {@code micrometer-core} on the class path (an
 * optional dependency of {@code polybus-outbox}: nothing else of the module loads it).
 *
 * <table>
 *   <caption>Meters, each tagged {@code polybus.outbox.table}</caption>
 *   <tr><th>name</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@value #PENDING}</td><td>gauge</td><td>committed rows waiting ({@link
 *       OutboxLag#pending()}); NaN while stale</td></tr>
 *   <tr><td>{@value #OLDEST_AGE}</td><td>gauge, seconds</td><td>age of the oldest waiting row;
 *       NaN while stale</td></tr>
 *   <tr><td>{@value #PARKED}</td><td>gauge</td><td>rows parked in the table (every relay's); NaN
 *       while stale</td></tr>
 *   <tr><td>{@value #STALE}</td><td>gauge</td><td>1 while the lag figures are older than three
 *       {@code lagRefresh} periods (the database did not answer), else 0</td></tr>
 *   <tr><td>{@value #FORWARDED}</td><td>counter</td><td>messages this relay forwarded (confirmed
 *       and deleted)</td></tr>
 *   <tr><td>{@value #PARKED_BY_RELAY}</td><td>counter</td><td>rows this relay parked</td></tr>
 *   <tr><td>{@value #FAILURES}</td><td>counter</td><td>this relay's failed attempts: a shard's
 *       publish that failed transiently, or a database error</td></tr>
 * </table>
 *
 * <p>A scrape never waits on the database: the gauges read the figure the relay's first worker
 * measures every {@link OutboxRelay.Builder#lagRefresh lagRefresh}. Alert on {@value #OLDEST_AGE}
 * (the relay is down or the broker refuses) and on {@value #PARKED} above zero.
 *
 * <p>Static methods only; the meters hold a reference to the relay and live as long as the
 * registry.
 */
public final class OutboxMetrics {
  public static final String PENDING = "polybus.outbox.pending";
  public static final String OLDEST_AGE = "polybus.outbox.oldest.age";
  public static final String PARKED = "polybus.outbox.parked";
  public static final String STALE = "polybus.outbox.lag.stale";
  public static final String FORWARDED = "polybus.outbox.forwarded";
  public static final String PARKED_BY_RELAY = "polybus.outbox.parked.messages";
  public static final String FAILURES = "polybus.outbox.failures";

  /** The tag naming the outbox table. */
  public static final String TABLE_TAG = "polybus.outbox.table";

  private OutboxMetrics() {}

  /** Registers the meters of {@code relay} in {@code registry}. */
  public static void bind(OutboxRelay relay, MeterRegistry registry) {
    Objects.requireNonNull(relay, "relay");
    Objects.requireNonNull(registry, "registry");
    List<Tag> tags = List.of(Tag.of(TABLE_TAG, relay.tableName()));
    gauge(registry, PENDING, "rows", tags, relay, r -> fresh(r, l -> l.pending()));
    gauge(
        registry,
        OLDEST_AGE,
        "seconds",
        tags,
        relay,
        r -> fresh(r, l -> l.oldestPendingAge().toNanos() / 1e9));
    gauge(registry, PARKED, "rows", tags, relay, r -> fresh(r, l -> l.parked()));
    gauge(registry, STALE, null, tags, relay, r -> Double.isNaN(fresh(r, l -> 0)) ? 1 : 0);
    FunctionCounter.builder(FORWARDED, relay, r -> r.forwardedCount())
        .tags(tags)
        .description("messages the relay forwarded: confirmed by the broker and deleted")
        .register(registry);
    FunctionCounter.builder(PARKED_BY_RELAY, relay, r -> r.parkedCount())
        .tags(tags)
        .description("rows the relay parked: publishing failed non-transiently")
        .register(registry);
    FunctionCounter.builder(FAILURES, relay, r -> r.failureCount())
        .tags(tags)
        .description("failed attempts: a transient publish failure or a database error")
        .register(registry);
  }

  private static void gauge(
      MeterRegistry registry,
      String name,
      String unit,
      List<Tag> tags,
      OutboxRelay relay,
      ToDoubleFunction<OutboxRelay> f) {
    Gauge.builder(name, relay, f)
        .tags(tags)
        .baseUnit(unit)
        .strongReference(true)
        .register(registry);
  }

  private static double fresh(OutboxRelay relay, ToDoubleFunction<OutboxLag> f) {
    OutboxLag lag = relay.cachedLag();
    if (lag == null
        || System.nanoTime() - relay.cachedLagNanos() > 3 * relay.lagRefresh().toNanos()) {
      return Double.NaN;
    }
    return f.applyAsDouble(lag);
  }
}
