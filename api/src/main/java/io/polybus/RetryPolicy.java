package io.polybus;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How failed deliveries are retried: a total attempt budget and an exponential backoff.
 *
 * <p>Immutable and thread-safe. The delay before attempt {@code n + 1} (after attempt {@code n}
 * failed) is {@code min(maxBackoff, initialBackoff * multiplier^(n-1))} plus a random jitter of up
 * to {@code jitter} times that value. Jitter only ever adds, so the configured backoff is a lower
 * bound of the observed delay.
 *
 * <p>An exception that is an instance of one of {@link #nonRetryable()} classes, or a {@link
 * CodecException}, skips the remaining attempts and goes straight to the dead-letter topic.
 */
public final class RetryPolicy {
  /**
   * The longest delay anywhere in retrying: {@link Builder#initialBackoff}, {@link
   * Builder#maxBackoff} and the delay given to {@link Delivery#retry(Duration)} (12 hours, the
   * longest a message can stay invisible on SQS).
   */
  public static final Duration MAX_DELAY = Duration.ofHours(12);

  private static final RetryPolicy DEFAULT = new Builder().build();
  private static final RetryPolicy NONE = new Builder().maxAttempts(1).build();

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final double multiplier;
  private final Duration maxBackoff;
  private final double jitter;
  private final List<Class<? extends Throwable>> nonRetryable;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.multiplier = b.multiplier;
    this.maxBackoff = b.maxBackoff;
    this.jitter = b.jitter;
    this.nonRetryable = List.copyOf(b.nonRetryable);
  }

  /** 5 attempts, 200 ms backoff doubling up to 30 s, 10 % jitter, every exception retryable. */
  public static RetryPolicy defaults() {
    return DEFAULT;
  }

  /** One attempt: a failure is dead-lettered at once. */
  public static RetryPolicy none() {
    return NONE;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder newBuilder() {
    Builder b = new Builder();
    b.maxAttempts = maxAttempts;
    b.initialBackoff = initialBackoff;
    b.multiplier = multiplier;
    b.maxBackoff = maxBackoff;
    b.jitter = jitter;
    b.nonRetryable.addAll(nonRetryable);
    return b;
  }

  /** Total deliveries of one message, the first included. */
  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public double multiplier() {
    return multiplier;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  public double jitter() {
    return jitter;
  }

  public List<Class<? extends Throwable>> nonRetryable() {
    return nonRetryable;
  }

  /** True when {@code failure} may be retried (attempts permitting). */
  public boolean isRetryable(Throwable failure) {
    if (failure instanceof CodecException) {
      return false;
    }
    for (Class<? extends Throwable> c : nonRetryable) {
      if (c.isInstance(failure)) {
        return false;
      }
    }
    return true;
  }

  /** The nominal delay after attempt {@code failedAttempt} failed, without jitter. */
  public Duration nominalBackoff(int failedAttempt) {
    if (failedAttempt < 1) {
      throw new IllegalArgumentException("failedAttempt must be >= 1, was " + failedAttempt);
    }
    double nanos = initialBackoff.toNanos() * Math.pow(multiplier, failedAttempt - 1);
    long max = maxBackoff.toNanos();
    return Duration.ofNanos(nanos >= max ? max : (long) nanos);
  }

  /** The delay after attempt {@code failedAttempt} failed, jitter included. */
  public Duration backoff(int failedAttempt) {
    Duration nominal = nominalBackoff(failedAttempt);
    if (jitter == 0 || nominal.isZero()) {
      return nominal;
    }
    long extra = (long) (nominal.toNanos() * jitter * ThreadLocalRandom.current().nextDouble());
    return nominal.plusNanos(extra);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof RetryPolicy)) {
      return false;
    }
    RetryPolicy r = (RetryPolicy) o;
    return maxAttempts == r.maxAttempts
        && initialBackoff.equals(r.initialBackoff)
        && multiplier == r.multiplier
        && maxBackoff.equals(r.maxBackoff)
        && jitter == r.jitter
        && nonRetryable.equals(r.nonRetryable);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, nonRetryable);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts="
        + maxAttempts
        + ", initialBackoff="
        + initialBackoff
        + ", multiplier="
        + multiplier
        + ", maxBackoff="
        + maxBackoff
        + ", jitter="
        + jitter
        + ", nonRetryable="
        + nonRetryable
        + "}";
  }

  /** Builds {@link RetryPolicy}s. Not thread-safe. */
  public static final class Builder {
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofMillis(200);
    private double multiplier = 2.0;
    private Duration maxBackoff = Duration.ofSeconds(30);
    private double jitter = 0.1;
    private final Set<Class<? extends Throwable>> nonRetryable = new LinkedHashSet<>();

    private Builder() {}

    /** Total deliveries including the first; 1 to 1000. */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1 || maxAttempts > 1000) {
        throw new IllegalArgumentException(
            "maxAttempts must be between 1 and 1000, was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** The delay after the first failure; zero or more, at most 12 hours. */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = checkDelay(initialBackoff, "initialBackoff");
      return this;
    }

    /** Growth factor per failed attempt; 1.0 to 100. */
    public Builder multiplier(double multiplier) {
      if (!(multiplier >= 1.0 && multiplier <= 100)) {
        throw new IllegalArgumentException(
            "multiplier must be between 1.0 and 100, was " + multiplier);
      }
      this.multiplier = multiplier;
      return this;
    }

    /** The cap on the delay; zero or more, at most 12 hours. */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = checkDelay(maxBackoff, "maxBackoff");
      return this;
    }

    /** Fraction of the delay added at random, 0 to 1. */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0 && jitter <= 1)) {
        throw new IllegalArgumentException("jitter must be between 0 and 1, was " + jitter);
      }
      this.jitter = jitter;
      return this;
    }

    /** Exceptions (and their subclasses) that are dead-lettered without further attempts. */
    @SafeVarargs
    public final Builder nonRetryable(Class<? extends Throwable>... types) {
      for (Class<? extends Throwable> t : types) {
        nonRetryable.add(Objects.requireNonNull(t, "nonRetryable type"));
      }
      return this;
    }

    public RetryPolicy build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff ("
                + maxBackoff
                + ") must not be less than initialBackoff ("
                + initialBackoff
                + ")");
      }
      return new RetryPolicy(this);
    }

    private static Duration checkDelay(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.compareTo(MAX_DELAY) > 0) {
        throw new IllegalArgumentException(
            name + " must be between 0 and " + MAX_DELAY.toHours() + " hours, was " + d);
      }
      return d;
    }
  }
}
