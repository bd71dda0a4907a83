package io.polybus.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.polybus.Instrumentation;
import io.polybus.Polybus;
import java.time.Duration;
import java.util.Objects;

/**
 * Micrometer metrics for a Polybus bus: install with {@code Polybus.connect(uri,
 * PolybusMetrics.create(registry))}.
 *
 * <h2>Instruments</h2>
 *
 * The OpenTelemetry semantic conventions' messaging instruments, and Polybus's own:
 *
 * <table>
 *   <caption>Instruments and their tags</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>counts</th></tr>
 *   <tr><td>{@value #SENT}</td><td>counter</td><td>system, destination, operation, error.type on
 *       failure</td><td>messages published (each message of a batch)</td></tr>
 *   <tr><td>{@value #OPERATION_DURATION}</td><td>timer</td><td>system, destination, operation,
 *       error.type on failure</td><td>publish calls, from the call until the broker
 *       confirmed</td></tr>
 *   <tr><td>{@value #CONSUMED}</td><td>counter</td><td>system, destination, group</td><td>delivery
 *       attempts handed to a handler (a retried message counts once per attempt)</td></tr>
 *   <tr><td>{@value #PROCESS_DURATION}</td><td>timer</td><td>system, destination, group,
 *       outcome, error.type on failure</td><td>attempts, from the handler's start until
 *       settled</td></tr>
 *   <tr><td>{@value #RETRIES}</td><td>counter</td><td>system, destination, group</td><td>retries
 *       scheduled</td></tr>
 *   <tr><td>{@value #DEAD_LETTERS}</td><td>counter</td><td>system, destination, group</td><td>dead
 *       letters confirmed by the dead-letter topic</td></tr>
 *   <tr><td>{@value #REDRIVEN}</td><td>counter</td><td>system, destination (the source topic),
 *       dead-letter topic</td><td>messages moved back by a redrive</td></tr>
 *   <tr><td>{@value #IN_FLIGHT}</td><td>gauge</td><td>system, destination, group</td><td>deliveries
 *       of the bus's subscriptions not yet settled</td></tr>
 *   <tr><td>{@value #LAG}</td><td>gauge</td><td>system, destination, group</td><td>consumer lag,
 *       in messages; NaN while stale</td></tr>
 *   <tr><td>{@value #LAG_AGE}</td><td>gauge (seconds)</td><td>system, destination, group</td>
 *       <td>age of the oldest unsettled message where the backend knows it, else NaN</td></tr>
 *   <tr><td>{@value #LAG_STALE}</td><td>gauge</td><td>system, destination, group</td><td>1 while
 *       the lag figure is older than its stale limit (the broker did not answer), else 0</td></tr>
 * </table>
 *
 * Tag keys are the conventions' attribute names ({@code messaging.system}, {@code
 * messaging.destination.name}, {@code messaging.operation.name}, {@code
 * messaging.consumer.group.name}, {@code error.type}) and {@code polybus.outcome}; every tag has
 * bounded cardinality (never a message id or key).
 *
 * <h2>Lag without blocking a scrape</h2>
 *
 * The lag gauges of every group the bus subscribes to (on a backend that reports lag) read a value
 * a background daemon thread refreshes every {@link Builder#lagRefresh(Duration)}; a scrape never
 * asks the broker. When the broker has not answered for {@link Builder#lagStaleAfter(Duration)} the
 * lag gauge reads NaN and the stale gauge 1: it says stale rather than blocking or showing an old
 * figure.
 *
 * <p>Immutable and thread-safe; one instance may instrument many buses.
 */
public final class PolybusMetrics implements Instrumentation {
  public static final String SENT = "messaging.client.sent.messages";
  public static final String OPERATION_DURATION = "messaging.client.operation.duration";
  public static final String CONSUMED = "messaging.client.consumed.messages";
  public static final String PROCESS_DURATION = "messaging.process.duration";
  public static final String RETRIES = "polybus.retries";
  public static final String DEAD_LETTERS = "polybus.dead.letters";
  public static final String REDRIVEN = "polybus.redriven.messages";
  public static final String IN_FLIGHT = "polybus.in.flight";
  public static final String LAG = "polybus.consumer.lag";
  public static final String LAG_AGE = "polybus.consumer.lag.age";
  public static final String LAG_STALE = "polybus.consumer.lag.stale";
  public static final String CIRCUIT_OPEN = "polybus.circuit.open";
  public static final String CIRCUIT_TRANSITIONS = "polybus.circuit.transitions";

  private final MeterRegistry registry;
  private final Duration lagRefresh;
  private final Duration lagStaleAfter;

  private PolybusMetrics(Builder b) {
    this.registry = b.registry;
    this.lagRefresh = b.lagRefresh;
    this.lagStaleAfter = b.lagStaleAfter != null ? b.lagStaleAfter : b.lagRefresh.multipliedBy(3);
  }

  /** Metrics in {@code registry}, lag refreshed every 10 seconds. */
  public static PolybusMetrics create(MeterRegistry registry) {
    return builder(registry).build();
  }

  public static Builder builder(MeterRegistry registry) {
    return new Builder(Objects.requireNonNull(registry, "registry"));
  }

  @Override
  public Observer attach(Polybus bus) {
    return new MetricsObserver(registry, bus, lagRefresh, lagStaleAfter);
  }

  @Override
  public String toString() {
    return "PolybusMetrics{"
        + registry.getClass().getSimpleName()
        + ", lag every "
        + lagRefresh
        + "}";
  }

  /** Builds {@link PolybusMetrics}. Not thread-safe. */
  public static final class Builder {
    private final MeterRegistry registry;
    private Duration lagRefresh = Duration.ofSeconds(10);
    private Duration lagStaleAfter;

    private Builder(MeterRegistry registry) {
      this.registry = registry;
    }

    /** How often the lag gauges are refreshed from the broker; 10 seconds unless set. */
    public Builder lagRefresh(Duration every) {
      Objects.requireNonNull(every, "every");
      if (every.toMillis() < 10 || every.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException(
            "lagRefresh must be between 10 ms and 1 hour, was " + every);
      }
      this.lagRefresh = every;
      return this;
    }

    /**
     * How old a lag figure may get (the broker not answering) before the gauge reads NaN; three
     * times {@link #lagRefresh} unless set.
     */
    public Builder lagStaleAfter(Duration after) {
      this.lagStaleAfter = Objects.requireNonNull(after, "after");
      return this;
    }

    /**
     * @throws IllegalArgumentException if {@link #lagStaleAfter} is shorter than {@link
     *     #lagRefresh}
     */
    public PolybusMetrics build() {
      if (lagStaleAfter != null && lagStaleAfter.compareTo(lagRefresh) < 0) {
        throw new IllegalArgumentException(
            "lagStaleAfter ("
                + lagStaleAfter
                + ") must not be shorter than lagRefresh ("
                + lagRefresh
                + ")");
      }
      return new PolybusMetrics(this);
    }
  }
}
