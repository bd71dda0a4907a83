package io.polybus;

import java.time.Duration;
import java.util.Objects;

/**
 * When a subscription stops calling its handler because the handler keeps failing: a count-based
 * circuit breaker, set with {@link SubscribeOptions.Builder#circuitBreaker(CircuitBreaker)}.
 *
 * <p>Over the outcomes of the last {@link #slidingWindow()} handler attempts, once at least {@link
 * #minimumCalls()} are known and the share of failures reaches {@link #failureRateThreshold()}, the
 * breaker <em>opens</em>: the subscription is paused as by {@link Subscription#pause()} (no handler
 * starts, running ones finish, leases stay alive). After {@link #openDuration()} it is <em>half
 * open</em>: up to {@link #halfOpenTrials()} deliveries are handed to the handler as trials; when
 * all of them succeed the breaker <em>closes</em> (a fresh window), when one fails it opens again
 * for another {@link #openDuration()}.
 *
 * <p>A <em>failure</em> is an attempt whose handler threw an exception the retry policy retries, or
 * asked for a retry with {@link Delivery#retry}; a <em>success</em> is an attempt that ended in an
 * ack. A dead letter the handler asked for, or one for a non-retryable exception, is neither: it
 * says the message is bad, not that what the handler calls is down. Failed attempts are retried by
 * the retry policy as always; nothing is lost while the breaker is open.
 *
 * <p>Immutable and thread-safe; build with {@link #builder()}. The listener is called on the thread
 * that caused the transition (a handler thread, the thread that settled the attempt, or the bus's
 * timer thread), never while the subscription holds a lock; it must not block.
 */
public final class CircuitBreaker {
  /** The states of a breaker. */
  public enum State {
    /** Handlers run. */
    CLOSED,
    /** Paused: no handler starts until the open duration has passed. */
    OPEN,
    /** A few trial deliveries run; their outcomes decide between closed and open. */
    HALF_OPEN
  }

  /** Hears a breaker's transitions. */
  @FunctionalInterface
  public interface Listener {
    /**
     * The breaker of {@code subscription} went from {@code from} to {@code to}.
     *
     * @param why a short description, e.g. {@code "6 of the last 10 attempts failed"}
     */
    void transitioned(Subscription subscription, State from, State to, String why);
  }

  private final double failureRateThreshold;
  private final int slidingWindow;
  private final int minimumCalls;
  private final Duration openDuration;
  private final int halfOpenTrials;
  private final Listener listener;

  private CircuitBreaker(Builder b) {
    this.failureRateThreshold = b.failureRateThreshold;
    this.slidingWindow = b.slidingWindow;
    this.minimumCalls = b.minimumCalls;
    this.openDuration = b.openDuration;
    this.halfOpenTrials = b.halfOpenTrials;
    this.listener = b.listener;
  }

  /** Threshold 0.5 over the last 20 attempts, at least 10 of them, open 30 s, 3 trials. */
  public static Builder builder() {
    return new Builder();
  }

  /** The share of failures, above 0 and at most 1, at which the breaker opens. */
  public double failureRateThreshold() {
    return failureRateThreshold;
  }

  /** How many of the latest attempts the failure rate is computed over. */
  public int slidingWindow() {
    return slidingWindow;
  }

  /** The breaker does not open before this many outcomes are in its window. */
  public int minimumCalls() {
    return minimumCalls;
  }

  public Duration openDuration() {
    return openDuration;
  }

  /** How many deliveries the half-open breaker hands to the handler as trials. */
  public int halfOpenTrials() {
    return halfOpenTrials;
  }

  /** The transition listener, or null. */
  public Listener listener() {
    return listener;
  }

  @Override
  public String toString() {
    return "CircuitBreaker{failureRateThreshold="
        + failureRateThreshold
        + ", slidingWindow="
        + slidingWindow
        + ", minimumCalls="
        + minimumCalls
        + ", openDuration="
        + openDuration
        + ", halfOpenTrials="
        + halfOpenTrials
        + "}";
  }

  /** Builds a {@link CircuitBreaker}. Not thread-safe. */
  public static final class Builder {
    private double failureRateThreshold = 0.5;
    private int slidingWindow = 20;
    private int minimumCalls = 10;
    private Duration openDuration = Duration.ofSeconds(30);
    private int halfOpenTrials = 3;
    private Listener listener;

    private Builder() {}

    /** Above 0 and at most 1. */
    public Builder failureRateThreshold(double threshold) {
      if (!(threshold > 0 && threshold <= 1)) {
        throw new IllegalArgumentException(
            "failureRateThreshold must be above 0 and at most 1, was " + threshold);
      }
      this.failureRateThreshold = threshold;
      return this;
    }

    /** 1 to 10,000 attempts. */
    public Builder slidingWindow(int attempts) {
      if (attempts < 1 || attempts > 10_000) {
        throw new IllegalArgumentException(
            "slidingWindow must be between 1 and 10000 attempts, was " + attempts);
      }
      this.slidingWindow = attempts;
      return this;
    }

    /** 1 to 10,000 attempts; at most the sliding window (checked by {@link #build()}). */
    public Builder minimumCalls(int attempts) {
      if (attempts < 1 || attempts > 10_000) {
        throw new IllegalArgumentException(
            "minimumCalls must be between 1 and 10000 attempts, was " + attempts);
      }
      this.minimumCalls = attempts;
      return this;
    }

    /** 1 ms to 24 hours. */
    public Builder openDuration(Duration openDuration) {
      Objects.requireNonNull(openDuration, "openDuration");
      if (openDuration.compareTo(Duration.ofMillis(1)) < 0
          || openDuration.compareTo(Duration.ofHours(24)) > 0) {
        throw new IllegalArgumentException(
            "openDuration must be between 1 ms and 24 hours, was " + openDuration);
      }
      this.openDuration = openDuration;
      return this;
    }

    /** 1 to 1,000 trial deliveries. */
    public Builder halfOpenTrials(int trials) {
      if (trials < 1 || trials > 1000) {
        throw new IllegalArgumentException(
            "halfOpenTrials must be between 1 and 1000, was " + trials);
      }
      this.halfOpenTrials = trials;
      return this;
    }

    public Builder listener(Listener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * @throws IllegalArgumentException if {@code minimumCalls} exceeds {@code slidingWindow}
     */
    public CircuitBreaker build() {
      if (minimumCalls > slidingWindow) {
        throw new IllegalArgumentException(
            "minimumCalls ("
                + minimumCalls
                + ") must not exceed slidingWindow ("
                + slidingWindow
                + ")");
      }
      return new CircuitBreaker(this);
    }
  }
}
