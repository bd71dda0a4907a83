package io.polybus.internal;

import io.polybus.AckMode;
import io.polybus.BatchHandler;
import io.polybus.Handler;
import io.polybus.Instrumentation;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Not API. The shared delivery runtime of one subscription, the rules every backend inherits, made
 * of parts with one job each:
 *
 * <ul>
 *   <li>{@link PollLoop} — the poll thread: asks the backend for as many records as there is room
 *       for, heartbeats when full, backs off when polling fails;
 *   <li>{@link InFlightWindow} — the hard {@code maxInFlight} bound;
 *   <li>{@link KeyedDispatch} — the worker threads and their key tables: per-key order across
 *       retries; batches for a {@link BatchHandler};
 *   <li>{@link HandlerGate} with its {@link Breaker} — whether a handler may start: pause and the
 *       circuit breaker;
 *   <li>{@link RuntimeDelivery} with its {@link SettleRules} — the settle state machine: exactly
 *       one settle per attempt, exact attempt counts, in-place or native retries;
 *   <li>{@link DeadLetterPublisher} — builds and sends dead letters, acking only after the send;
 *   <li>this class — the life cycle: start, close and drain, failing for good.
 * </ul>
 *
 * Delays and clocks come from the bus's {@link RuntimeTime}, so tests drive time.
 *
 * <h2>Closing</h2>
 *
 * {@link #close(Duration)} stops polling, lets running handlers and dead-letter sends finish until
 * the deadline, marks every record no handler started ({@link InboundRecord#markNotHandled()}),
 * then gives everything unsettled back with {@code consumer.close()}; settle calls after that
 * return false. A fatal error fails the subscription for good the same way ({@link #failForGood}),
 * leaving it registered so the bus's health says so.
 *
 * <h2>Settling</h2>
 *
 * Every record is settled once: ack, native release (NONE ordering on a backend with native delayed
 * retry), or dead-lettered (publish to the dead-letter topic, then ack). Only these free an
 * in-flight slot. A record that arrives with a delivery count above {@code maxAttempts} (its
 * earlier consumers died) is dead-lettered without calling the handler.
 */
final class SubscriptionRuntime implements Subscription {
  private static final System.Logger LOG = System.getLogger("io.polybus.runtime");

  private final DefaultPolybus bus;
  private final BackendConsumer consumer;
  private final ConsumerSpec spec;
  private final RunState state = new RunState();
  private final InFlightWindow window;
  private final DeadLetterPublisher deadLetters;
  private final KeyedDispatch dispatch;
  private final HandlerGate gate;
  private final PollLoop poll;
  private final Thread pollThread;

  /** Why this subscription failed for good (a fatal error in a handler), or null. */
  private volatile String failure;

  SubscriptionRuntime(
      DefaultPolybus bus,
      BackendConsumer consumer,
      ConsumerSpec spec,
      Handler handler,
      BatchHandler batchHandler,
      SubscribeOptions options,
      String deadLetterTopic) {
    this.bus = bus;
    this.consumer = consumer;
    this.spec = spec;
    RuntimeTime time = bus.time();
    this.window = new InFlightWindow(options.maxInFlight(), options.concurrency());
    this.deadLetters =
        new DeadLetterPublisher(
            bus.backend(), spec, deadLetterTopic, time, () -> state.stopping, bus.observer());
    Breaker breaker =
        options.circuitBreaker() == null
            ? null
            : new Breaker(options.circuitBreaker(), time, bus.observer());
    if (breaker != null) {
      breaker.owner(this);
    }
    SettleRules rules =
        new SettleRules(
            spec,
            options.retryPolicy(),
            bus.capabilities().nativeDelayedRetry(),
            deadLetters,
            time,
            window,
            state,
            bus.observer(),
            breaker);
    String name = "polybus-" + spec.topic() + "-" + spec.group();
    this.gate = new HandlerGate(state, breaker, this::wakePoller);
    this.dispatch =
        new KeyedDispatch(
            name,
            options.concurrency(),
            handler,
            batchHandler,
            batchHandler == null ? 1 : Math.min(options.maxBatchSize(), options.maxInFlight()),
            options.maxBatchWait().toNanos(),
            options.ackMode() == AckMode.MANUAL,
            rules,
            gate,
            this::failForGood);
    this.poll =
        new PollLoop(
            consumer,
            window,
            dispatch,
            gate,
            state,
            time,
            options.ackTimeout(),
            this::failForGood,
            this);
    this.pollThread = new Thread(poll, name + "-poll");
    pollThread.setDaemon(true);
  }

  /** The gate opened again after a pause or an open breaker: the poller should fetch now. */
  private void wakePoller() {
    Thread t = pollThread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  void start() {
    dispatch.start();
    pollThread.start();
    Instrumentation.Observer o = bus.observer();
    if (o != null) {
      o.subscribed(this);
    }
  }

  @Override
  public int inFlight() {
    return window.held();
  }

  @Override
  public String topic() {
    return spec.topic();
  }

  @Override
  public String group() {
    return spec.group();
  }

  @Override
  public boolean isActive() {
    return state.running;
  }

  @Override
  public void pause() {
    gate.pause();
  }

  @Override
  public void resume() {
    gate.resume();
  }

  @Override
  public boolean isPaused() {
    return gate.isPaused();
  }

  // ---------------------------------------------------------------- closing

  @Override
  public void close() {
    close(DEFAULT_DRAIN);
  }

  @Override
  public boolean close(Duration drainDeadline) {
    Objects.requireNonNull(drainDeadline, "drainDeadline");
    try {
      return stop(drainDeadline);
    } finally {
      bus.unregister(this);
    }
  }

  /**
   * Stops polling and the workers, waits for running handlers and dead-letter publishes until the
   * deadline, then gives every unsettled record back. Idempotent: a second call returns true at
   * once.
   */
  private synchronized boolean stop(Duration drainDeadline) {
    if (state.stopping) {
      return true;
    }
    long deadline = System.nanoTime() + Math.max(0, drainDeadline.toNanos());
    state.running = false;
    state.stopping = true;
    consumer.wakeup();
    LockSupport.unpark(pollThread);
    gate.changed(); // workers waiting at a closed gate see stopping and start nothing
    dispatch.signalStop();
    boolean drained = dispatch.awaitExit(deadline);
    // Dead-letter publishes already under way finish (or fail) within the same deadline.
    while (deadLetters.pending() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    drained &= deadLetters.pending() == 0;
    if (pollThread != Thread.currentThread()) {
      try {
        pollThread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    dispatch.abandonStuck();
    state.givenBack = true;
    consumer.close();
    Instrumentation.Observer o = bus.observer();
    if (o != null) {
      o.unsubscribed(this);
    }
    return drained;
  }

  /**
   * Ends this subscription because it cannot go on (a fatal error in a handler or in polling):
   * logged at ERROR naming the topic and group, {@link #isActive()} false, the bus's health down
   * until the application closes the subscription, and every unsettled delivery given back to the
   * group. The first failure wins.
   */
  private void failForGood(String why, Throwable cause) {
    synchronized (this) {
      if (failure != null || state.stopping) {
        return;
      }
      failure = why;
      state.running = false;
    }
    LOG.log(
        System.Logger.Level.ERROR,
        () ->
            "subscription to topic '"
                + spec.topic()
                + "' in group '"
                + spec.group()
                + "' failed for good and gives its deliveries back: "
                + why,
        cause);
    // On a thread of its own: the caller is one of the threads that stop() waits for.
    Thread closer =
        new Thread(
            () -> {
              try {
                stop(Duration.ZERO);
              } catch (RuntimeException e) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    () -> "giving back the deliveries of " + this + " failed",
                    e);
              }
            },
            pollThread.getName().replace("-poll", "-failed"));
    closer.setDaemon(true);
    closer.start();
  }

  /**
   * What makes this subscription unhealthy now, or null: a failure for good, or polling that fails.
   */
  String trouble() {
    String f = failure;
    return f != null ? "failed for good: " + f : poll.trouble();
  }

  static void markNotHandled(List<InboundRecord> records) {
    for (InboundRecord r : records) {
      r.markNotHandled();
    }
  }

  static String describe(Throwable t) {
    return t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  @Override
  public String toString() {
    return "Subscription{topic="
        + spec.topic()
        + ", group="
        + spec.group()
        + ", ordering="
        + spec.ordering()
        + (gate.isPaused() ? ", paused" : "")
        + (failure != null ? ", failed" : state.running ? "" : ", closed")
        + "}";
  }
}
