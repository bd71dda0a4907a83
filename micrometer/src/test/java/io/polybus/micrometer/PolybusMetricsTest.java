package io.polybus.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.polybus.BrokerUnavailableException;
import io.polybus.Capabilities;
import io.polybus.CircuitBreaker;
import io.polybus.ConsumerLag;
import io.polybus.Instrumentation;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.Subscription;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The lag gauges read what a background thread fetched: a scrape never waits on the broker, and a
 * broker that stops answering turns the gauge to NaN (stale) instead of an old figure.
 */
class PolybusMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** What the fake bus's lag() does next: answer with a figure, fail, or block. */
  private final AtomicReference<Object> lagAnswer = new AtomicReference<>(7L);

  private final AtomicInteger lagCalls = new AtomicInteger();

  private Polybus bus() {
    Capabilities caps =
        Capabilities.builder()
            .lagAccuracy(ConsumerLag.Accuracy.EXACT)
            .maxPayloadBytes(1024)
            .build();
    PolybusOptions options = PolybusOptions.parse("mem:");
    return (Polybus)
        Proxy.newProxyInstance(
            Polybus.class.getClassLoader(),
            new Class<?>[] {Polybus.class},
            (p, m, args) ->
                switch (m.getName()) {
                  case "options" -> options;
                  case "capabilities" -> caps;
                  case "lag" -> lag((String) args[0], (String) args[1]);
                  case "toString" -> "fake bus";
                  default -> throw new UnsupportedOperationException(m.getName());
                });
  }

  private ConsumerLag lag(String topic, String group) throws InterruptedException {
    lagCalls.incrementAndGet();
    Object a = lagAnswer.get();
    if (a instanceof CountDownLatch l) {
      l.await();
      throw new BrokerUnavailableException("broker gone");
    }
    if (a instanceof RuntimeException e) {
      throw e;
    }
    return ConsumerLag.of(
        topic, group, (Long) a, Duration.ofSeconds(3), ConsumerLag.Accuracy.EXACT, Instant.now());
  }

  private static Subscription subscription(String topic, String group, int inFlight) {
    return (Subscription)
        Proxy.newProxyInstance(
            Subscription.class.getClassLoader(),
            new Class<?>[] {Subscription.class},
            (p, m, args) ->
                switch (m.getName()) {
                  case "topic" -> topic;
                  case "group" -> group;
                  case "inFlight" -> inFlight;
                  case "hashCode" -> System.identityHashCode(p);
                  case "equals" -> p == args[0];
                  default -> throw new UnsupportedOperationException(m.getName());
                });
  }

  private double gauge(String name) {
    Gauge g = registry.find(name).tag("messaging.destination.name", "orders").gauge();
    return g == null ? Double.NaN : g.value();
  }

  private static void await(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() < deadline).as(what).isTrue();
      Thread.sleep(5);
    }
  }

  @Test
  void lagGaugeShowsTheBackgroundFigureAndTurnsStaleWhenTheBrokerStopsAnswering() throws Exception {
    Instrumentation.Observer o =
        PolybusMetrics.builder(registry)
            .lagRefresh(Duration.ofMillis(50))
            .lagStaleAfter(Duration.ofMillis(300))
            .build()
            .attach(bus());
    o.subscribed(subscription("orders", "email", 2));
    await("lag 7 read in the background", () -> gauge(PolybusMetrics.LAG) == 7);
    assertThat(gauge(PolybusMetrics.LAG_AGE)).isEqualTo(3.0);
    assertThat(gauge(PolybusMetrics.LAG_STALE)).isEqualTo(0);
    assertThat(gauge(PolybusMetrics.IN_FLIGHT)).isEqualTo(2);

    CountDownLatch brokerHangs = new CountDownLatch(1);
    lagAnswer.set(brokerHangs);
    long start = System.nanoTime();
    await("lag stale while the broker hangs", () -> Double.isNaN(gauge(PolybusMetrics.LAG)));
    assertThat(gauge(PolybusMetrics.LAG_STALE)).isEqualTo(1);
    // Reading the gauges never waited for the hanging broker.
    long scrape = System.nanoTime();
    gauge(PolybusMetrics.LAG);
    assertThat(Duration.ofNanos(System.nanoTime() - scrape)).isLessThan(Duration.ofMillis(200));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

    lagAnswer.set(0L);
    brokerHangs.countDown();
    await("lag fresh again once the broker answers", () -> gauge(PolybusMetrics.LAG) == 0);
    assertThat(gauge(PolybusMetrics.LAG_STALE)).isEqualTo(0);
    o.closed();
    assertThat(registry.find(PolybusMetrics.LAG).gauge()).as("lag gauge after close").isNull();
  }

  @Test
  void lagGaugeIsStaleNotZeroWhenTheFirstReadFails() throws Exception {
    lagAnswer.set(new BrokerUnavailableException("down from the start"));
    Instrumentation.Observer o =
        PolybusMetrics.builder(registry).lagRefresh(Duration.ofMillis(20)).build().attach(bus());
    o.subscribed(subscription("orders", "email", 0));
    await("a lag read attempted", () -> lagCalls.get() >= 2);
    assertThat(gauge(PolybusMetrics.LAG)).isNaN();
    assertThat(gauge(PolybusMetrics.LAG_STALE)).isEqualTo(1);
    o.closed();
  }

  @Test
  void inFlightSumsTheGroupsSubscriptionsAndGoesAwayWithTheLast() {
    Instrumentation.Observer o = PolybusMetrics.create(registry).attach(bus());
    Subscription a = subscription("orders", "email", 3);
    Subscription b = subscription("orders", "email", 4);
    o.subscribed(a);
    o.subscribed(b);
    assertThat(gauge(PolybusMetrics.IN_FLIGHT)).isEqualTo(7);
    o.unsubscribed(a);
    assertThat(gauge(PolybusMetrics.IN_FLIGHT)).isEqualTo(4);
    o.unsubscribed(b);
    assertThat(registry.find(PolybusMetrics.IN_FLIGHT).gauge()).isNull();
    o.closed();
  }

  @Test
  void circuitGaugeCountsSubscriptionsNotClosedAndTransitionsAreCountedByState() {
    Instrumentation.Observer o = PolybusMetrics.create(registry).attach(bus());
    Subscription a = subscription("orders", "email", 0);
    o.subscribed(a);
    o.circuitChanged(a, CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN, "4 of 4 failed");
    assertThat(registry.get(PolybusMetrics.CIRCUIT_OPEN).gauge().value()).isEqualTo(1.0);
    o.circuitChanged(a, CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN, "open 1s");
    assertThat(registry.get(PolybusMetrics.CIRCUIT_OPEN).gauge().value()).isEqualTo(1.0);
    o.circuitChanged(a, CircuitBreaker.State.HALF_OPEN, CircuitBreaker.State.CLOSED, "trial ok");
    assertThat(registry.get(PolybusMetrics.CIRCUIT_OPEN).gauge().value()).isZero();
    assertThat(
            registry
                .get(PolybusMetrics.CIRCUIT_TRANSITIONS)
                .tag("polybus.circuit.state", "open")
                .tag("messaging.consumer.group.name", "email")
                .counter()
                .count())
        .isEqualTo(1.0);
    o.unsubscribed(a);
    assertThat(registry.find(PolybusMetrics.CIRCUIT_OPEN).gauge()).isNull();
  }

  @Test
  void refusesAStaleLimitShorterThanTheRefresh() {
    assertThatThrownBy(
            () ->
                PolybusMetrics.builder(registry)
                    .lagRefresh(Duration.ofSeconds(10))
                    .lagStaleAfter(Duration.ofSeconds(5))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lagStaleAfter");
  }
}
