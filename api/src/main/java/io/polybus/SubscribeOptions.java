package io.polybus;

import java.time.Duration;
import java.util.Objects;

/**
 * How a subscription consumes: parallelism, the in-flight bound, ordering, retries and
 * dead-lettering.
 *
 * <p>Immutable and thread-safe; build with {@link #builder()}, derive with {@link #newBuilder()}.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code concurrency}</td><td>1</td><td>handler threads of this subscriber</td></tr>
 *   <tr><td>{@code maxInFlight}</td><td>1024</td><td>hard bound on unsettled deliveries held by this
 *       subscriber, including those waiting for a retry</td></tr>
 *   <tr><td>{@code ordering}</td><td>{@link Ordering#KEY} when the backend has
 *       {@link Capabilities#orderedByKey()}, otherwise {@link Ordering#NONE}</td><td>see {@link Ordering}</td></tr>
 *   <tr><td>{@code ackMode}</td><td>{@link AckMode#AUTO}</td><td>see {@link AckMode}</td></tr>
 *   <tr><td>{@code retryPolicy}</td><td>{@link RetryPolicy#defaults()}</td><td>attempts and backoff</td></tr>
 *   <tr><td>{@code deadLetterTopic}</td><td>{@code <topic>.<group>.dlq}</td><td>where exhausted messages go
 *       </td></tr>
 *   <tr><td>{@code startFrom}</td><td>{@link StartFrom#LATEST}</td><td>where a new group starts</td></tr>
 *   <tr><td>{@code ackTimeout}</td><td>30 s</td><td>after this long without a sign of life from the member
 *       holding a delivery, the backend gives the delivery to another member</td></tr>
 *   <tr><td>{@code circuitBreaker}</td><td>none</td><td>pauses the subscription while its handler keeps
 *       failing; see {@link CircuitBreaker}</td></tr>
 *   <tr><td>{@code priority}</td><td>false</td><td>also reads the topic's high-priority lane and hands its
 *       waiting messages out first; see {@link Priority}</td></tr>
 *   <tr><td>{@code maxBatchSize}</td><td>100</td><td>batch subscriptions only: the most deliveries
 *       handed to one {@link BatchHandler} call</td></tr>
 *   <tr><td>{@code maxBatchWait}</td><td>50 ms</td><td>batch subscriptions only: how long a batch that is
 *       not full waits for more deliveries before its handler is called</td></tr>
 * </table>
 */
public final class SubscribeOptions {
  private static final SubscribeOptions DEFAULTS = new Builder().build();

  private final int concurrency;
  private final int maxInFlight;
  private final Ordering ordering;
  private final AckMode ackMode;
  private final RetryPolicy retryPolicy;
  private final String deadLetterTopic;
  private final StartFrom startFrom;
  private final Duration ackTimeout;
  private final CircuitBreaker circuitBreaker;
  private final int maxBatchSize;
  private final Duration maxBatchWait;
  private final boolean priority;

  private SubscribeOptions(Builder b) {
    this.concurrency = b.concurrency;
    this.maxInFlight = b.maxInFlight;
    this.ordering = b.ordering;
    this.ackMode = b.ackMode;
    this.retryPolicy = b.retryPolicy;
    this.deadLetterTopic = b.deadLetterTopic;
    this.startFrom = b.startFrom;
    this.ackTimeout = b.ackTimeout;
    this.circuitBreaker = b.circuitBreaker;
    this.maxBatchSize = b.maxBatchSize;
    this.maxBatchWait = b.maxBatchWait;
    this.priority = b.priority;
  }

  public static SubscribeOptions defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder newBuilder() {
    Builder b = new Builder();
    b.concurrency = concurrency;
    b.maxInFlight = maxInFlight;
    b.ordering = ordering;
    b.ackMode = ackMode;
    b.retryPolicy = retryPolicy;
    b.deadLetterTopic = deadLetterTopic;
    b.startFrom = startFrom;
    b.ackTimeout = ackTimeout;
    b.circuitBreaker = circuitBreaker;
    b.maxBatchSize = maxBatchSize;
    b.maxBatchWait = maxBatchWait;
    b.priority = priority;
    return b;
  }

  public int concurrency() {
    return concurrency;
  }

  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * The requested ordering, or {@code null} for the backend's default (KEY where it is supported).
   */
  public Ordering ordering() {
    return ordering;
  }

  public AckMode ackMode() {
    return ackMode;
  }

  public RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  /** The dead-letter topic, or {@code null} for the default {@code <topic>.<group>.dlq}. */
  public String deadLetterTopic() {
    return deadLetterTopic;
  }

  public StartFrom startFrom() {
    return startFrom;
  }

  public Duration ackTimeout() {
    return ackTimeout;
  }

  /** The circuit breaker, or {@code null} for none. */
  public CircuitBreaker circuitBreaker() {
    return circuitBreaker;
  }

  public int maxBatchSize() {
    return maxBatchSize;
  }

  public Duration maxBatchWait() {
    return maxBatchWait;
  }

  /** Whether this subscription reads the topic's high-priority lane too (and first). */
  public boolean priority() {
    return priority;
  }

  @Override
  public String toString() {
    return "SubscribeOptions{concurrency="
        + concurrency
        + ", maxInFlight="
        + maxInFlight
        + ", ordering="
        + (ordering == null ? "default" : ordering)
        + ", ackMode="
        + ackMode
        + ", retryPolicy="
        + retryPolicy
        + ", deadLetterTopic="
        + (deadLetterTopic == null ? "default" : deadLetterTopic)
        + ", startFrom="
        + startFrom
        + ", ackTimeout="
        + ackTimeout
        + (circuitBreaker == null ? "" : ", circuitBreaker=" + circuitBreaker)
        + ", maxBatchSize="
        + maxBatchSize
        + ", maxBatchWait="
        + maxBatchWait
        + (priority ? ", priority=true" : "")
        + "}";
  }

  /** Builds {@link SubscribeOptions}. Not thread-safe. */
  public static final class Builder {
    private int concurrency = 1;
    private int maxInFlight = 1024;
    private Ordering ordering;
    private AckMode ackMode = AckMode.AUTO;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private String deadLetterTopic;
    private StartFrom startFrom = StartFrom.LATEST;
    private Duration ackTimeout = Duration.ofSeconds(30);
    private CircuitBreaker circuitBreaker;
    private int maxBatchSize = 100;
    private Duration maxBatchWait = Duration.ofMillis(50);
    private boolean priority;

    private Builder() {}

    /** Handler threads, 1 to 1024. */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1 || concurrency > 1024) {
        throw new IllegalArgumentException(
            "concurrency must be between 1 and 1024, was " + concurrency);
      }
      this.concurrency = concurrency;
      return this;
    }

    /** Unsettled deliveries this subscriber may hold, 1 to 1,000,000. */
    public Builder maxInFlight(int maxInFlight) {
      if (maxInFlight < 1 || maxInFlight > 1_000_000) {
        throw new IllegalArgumentException(
            "maxInFlight must be between 1 and 1000000, was " + maxInFlight);
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    public Builder ordering(Ordering ordering) {
      this.ordering = Objects.requireNonNull(ordering, "ordering");
      return this;
    }

    public Builder ackMode(AckMode ackMode) {
      this.ackMode = Objects.requireNonNull(ackMode, "ackMode");
      return this;
    }

    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /** A portable topic name (see {@link Polybus}) for dead letters. */
    public Builder deadLetterTopic(String deadLetterTopic) {
      Objects.requireNonNull(deadLetterTopic, "deadLetterTopic");
      this.deadLetterTopic = io.polybus.internal.Names.checkTopic(deadLetterTopic);
      return this;
    }

    public Builder startFrom(StartFrom startFrom) {
      this.startFrom = Objects.requireNonNull(startFrom, "startFrom");
      return this;
    }

    /** 100 ms to 12 hours. */
    public Builder ackTimeout(Duration ackTimeout) {
      Objects.requireNonNull(ackTimeout, "ackTimeout");
      if (ackTimeout.compareTo(Duration.ofMillis(100)) < 0
          || ackTimeout.compareTo(Duration.ofHours(12)) > 0) {
        throw new IllegalArgumentException(
            "ackTimeout must be between 100 ms and 12 hours, was " + ackTimeout);
      }
      this.ackTimeout = ackTimeout;
      return this;
    }

    /** A circuit breaker for this subscription; none by default. */
    public Builder circuitBreaker(CircuitBreaker circuitBreaker) {
      this.circuitBreaker = Objects.requireNonNull(circuitBreaker, "circuitBreaker");
      return this;
    }

    /**
     * Batch subscriptions only: 1 to 10,000 deliveries per handler call. A batch never holds more
     * than {@code maxInFlight}: a larger size is capped there.
     */
    /**
     * Also reads the topic's high-priority lane, where {@link Priority#HIGH} messages are
     * published, and hands its waiting messages out before waiting normal ones. Every group of a
     * topic that gets high-priority messages must subscribe with it: a group that does not never
     * sees them. Default false (one lane, no extra consumer).
     */
    public Builder priority(boolean priority) {
      this.priority = priority;
      return this;
    }

    public Builder maxBatchSize(int maxBatchSize) {
      if (maxBatchSize < 1 || maxBatchSize > 10_000) {
        throw new IllegalArgumentException(
            "maxBatchSize must be between 1 and 10000, was " + maxBatchSize);
      }
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    /** Batch subscriptions only: zero (never wait) to 1 minute. */
    public Builder maxBatchWait(Duration maxBatchWait) {
      Objects.requireNonNull(maxBatchWait, "maxBatchWait");
      if (maxBatchWait.isNegative() || maxBatchWait.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException(
            "maxBatchWait must be between 0 and 1 minute, was " + maxBatchWait);
      }
      this.maxBatchWait = maxBatchWait;
      return this;
    }

    public SubscribeOptions build() {
      return new SubscribeOptions(this);
    }
  }
}
