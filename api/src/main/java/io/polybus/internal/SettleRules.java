package io.polybus.internal;

import io.polybus.Instrumentation;
import io.polybus.Ordering;
import io.polybus.RetryPolicy;
import io.polybus.spi.ConsumerSpec;
import java.time.Duration;

/**
 * Not API. What one subscription's {@link RuntimeDelivery deliveries} settle with: the retry
 * policy, where a retry happens (in place or natively released), the dead-letter publisher, the
 * clock and the in-flight window whose slot a settled record frees. Immutable; shared by every
 * delivery of the subscription on every thread.
 *
 * <p>Where a retry happens is decided once, here: under {@link Ordering#KEY} always in place (the
 * record stays leased and its key held, because releasing it to the broker would let its successors
 * overtake it); otherwise natively on a backend with native delayed retry, and in place elsewhere
 * except for an immediate retry, which the broker can redeliver at once.
 */
final class SettleRules {
  final ConsumerSpec spec;
  final RetryPolicy policy;
  final boolean keyed;
  final boolean releaseNatively;
  final DeadLetterPublisher deadLetters;
  final RuntimeTime time;
  final InFlightWindow window;
  final RunState state;

  /** The bus's observer, or null when none is installed. */
  final Instrumentation.Observer observer;

  /** The subscription's circuit breaker, or null. */
  final Breaker breaker;

  SettleRules(
      ConsumerSpec spec,
      RetryPolicy policy,
      boolean nativeDelayedRetry,
      DeadLetterPublisher deadLetters,
      RuntimeTime time,
      InFlightWindow window,
      RunState state,
      Instrumentation.Observer observer,
      Breaker breaker) {
    this.spec = spec;
    this.policy = policy;
    this.keyed = spec.ordering() == Ordering.KEY;
    this.releaseNatively = !keyed && nativeDelayedRetry;
    this.deadLetters = deadLetters;
    this.time = time;
    this.window = window;
    this.state = state;
    this.observer = observer;
    this.breaker = breaker;
  }

  /** Whether a retry after {@code delay} gives the record back to the broker (else: in place). */
  boolean releases(Duration delay) {
    return releaseNatively || (!keyed && delay.isZero());
  }
}
