package io.polybus.internal;

import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.RetryPolicy;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * Not API. One attempt of one record, and the settle state machine every attempt goes through.
 *
 * <h2>States</h2>
 *
 * <pre>
 *   UNSETTLED --first of ack / retry / deadLetter / a failed handler--> CLAIMED
 *   CLAIMED --ack, native release, or dead letter confirmed--> CLAIMED + released
 *   CLAIMED --in-place retry--> (this attempt ends; attempt + 1, a new delivery of the same record,
 *                                is queued on the same worker when due)
 * </pre>
 *
 * The claim is one compare-and-set, so exactly one settle call wins, on any thread; the others
 * return false. After the records went back to the broker ({@link RunState#givenBack}) no claim
 * succeeds, because the backend would ignore the settle. {@code released} is set exactly once per
 * record, by the attempt that settles it with the broker, and only then is its in-flight slot freed
 * and its key given up: an in-place retry keeps both for the next attempt.
 *
 * <h2>Threads</h2>
 *
 * Settle methods may be called on any thread, also after the handler returned (manual mode). {@link
 * #holdsKey} belongs to the worker's thread. The cached key is racy but idempotent: every thread
 * computes an equal key.
 */
final class RuntimeDelivery implements Delivery {
  private static final AtomicIntegerFieldUpdater<RuntimeDelivery> STATE =
      AtomicIntegerFieldUpdater.newUpdater(RuntimeDelivery.class, "state");

  final InboundRecord record;
  final int attempt;
  final KeyedDispatch.Worker worker;
  private final SettleRules rules;

  /** 0 until the first settle call claims this attempt, then 1. */
  private volatile int state;

  /** Set once the record is settled with the broker (acked, released or dead-lettered). */
  volatile boolean released;

  /** Owned by the worker thread: this delivery holds its key in the worker's table. */
  boolean holdsKey;

  /**
   * Owned by the worker thread: an in-place retry that came due, whose attempt is noted with the
   * backend just before its handler starts.
   */
  boolean dueRetry;

  /** Owned by the worker thread: this delivery is in the batch whose handler runs now. */
  boolean inRunningBatch;

  /**
   * Set by the worker before the handler runs, read by the claim (as {@link #observed}): this
   * attempt started as a half-open trial of the subscription's circuit breaker.
   */
  boolean trial;

  private Object orderingKey;
  private boolean keyless;

  /**
   * This attempt as the installed observer sees it, or null. Set by the worker before the handler
   * runs; read by whichever thread claims the attempt, after the claim's compare-and-set (a settle
   * from another thread happens after the handler was handed the delivery, which follows the
   * write).
   */
  Instrumentation.Attempt observed;

  RuntimeDelivery(
      InboundRecord record, int attempt, KeyedDispatch.Worker worker, SettleRules rules) {
    this.record = record;
    this.attempt = attempt;
    this.worker = worker;
    this.rules = rules;
  }

  /** The record's ordering key, asked once: a backend may build it on each call. */
  Object key() {
    Object k = orderingKey;
    if (k == null && !keyless) {
      k = record.orderingKey();
      if (k == null) {
        keyless = true;
      } else {
        orderingKey = k;
      }
    }
    return k;
  }

  @Override
  public Message message() {
    return record.message();
  }

  @Override
  public String topic() {
    return rules.spec.topic();
  }

  @Override
  public String group() {
    return rules.spec.group();
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public boolean isSettled() {
    return state != 0;
  }

  private boolean claim() {
    // A settle racing with close may still claim and then be ignored by the backend (the message is
    // delivered again, as at-least-once delivery allows).
    return state == 0 && !rules.state.givenBack && STATE.compareAndSet(this, 0, 1);
  }

  @Override
  public boolean ack() {
    if (!claim()) {
      return false;
    }
    record.ack();
    judge(Breaker.SUCCESS);
    observe(Instrumentation.Outcome.ACK, null);
    done();
    return true;
  }

  /** Tells the circuit breaker, if any, how the handler's attempt ended. */
  private void judge(int outcome) {
    Breaker b = rules.breaker;
    if (b != null) {
      b.record(outcome, trial);
    }
  }

  /** Tells the observer how this claimed attempt ended. */
  private void observe(Instrumentation.Outcome outcome, Throwable failure) {
    Instrumentation.Attempt o = observed;
    if (o != null) {
      o.settled(outcome, failure);
    }
  }

  /**
   * The handler returned in auto-ack mode but the attempt could not be claimed (its records were
   * given back at close): the observer hears it ended unsettled. Worker thread.
   */
  void observeGivenBack() {
    if (observed != null && !released) {
      observe(Instrumentation.Outcome.GIVEN_BACK, null);
    }
  }

  @Override
  public boolean retry(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative() || delay.compareTo(RetryPolicy.MAX_DELAY) > 0) {
      // Checked before the claim, so a refused delay leaves the delivery unsettled.
      throw new IllegalArgumentException(
          "retry delay must be between 0 and "
              + RetryPolicy.MAX_DELAY.toHours()
              + " hours, was "
              + delay);
    }
    if (!claim()) {
      return false;
    }
    judge(Breaker.FAILURE);
    int max = rules.policy.maxAttempts();
    if (attempt >= max) {
      deadLetterClaimed(
          "retry requested after the last attempt (" + attempt + " of " + max + ")", null, attempt);
    } else {
      observe(Instrumentation.Outcome.RETRY, null);
      retryClaimed(delay);
    }
    return true;
  }

  @Override
  public boolean deadLetter(String reason) {
    Objects.requireNonNull(reason, "reason");
    if (!claim()) {
      return false;
    }
    judge(Breaker.NEUTRAL);
    deadLetterClaimed(reason, null, attempt);
    return true;
  }

  /** The handler threw before settling: retry, or dead-letter when not retryable or the last. */
  void fail(Throwable t) {
    if (!claim()) {
      return;
    }
    RetryPolicy policy = rules.policy;
    boolean retryable = policy.isRetryable(t);
    judge(retryable ? Breaker.FAILURE : Breaker.NEUTRAL);
    if (!retryable) {
      deadLetterClaimed("non-retryable failure: " + SubscriptionRuntime.describe(t), t, attempt);
    } else if (attempt >= policy.maxAttempts()) {
      deadLetterClaimed(
          "failed "
              + attempt
              + " of "
              + policy.maxAttempts()
              + " attempts: "
              + SubscriptionRuntime.describe(t),
          t,
          attempt);
    } else {
      observe(Instrumentation.Outcome.RETRY, t);
      retryClaimed(policy.backoff(attempt));
    }
  }

  /**
   * Dead-letters without calling the handler, for a record whose earlier consumers died: returns
   * false when this attempt's delivery count is within {@code maxAttempts} (the handler should
   * run).
   */
  boolean deadLetterIfOverDelivered() {
    int max = rules.policy.maxAttempts();
    if (attempt <= max) {
      return false;
    }
    if (claim()) {
      int made = attempt - 1;
      deadLetterClaimed(
          "delivered "
              + made
              + " times without being settled (maxAttempts "
              + max
              + "): its consumers died or closed while handling it",
          null,
          made);
    }
    return true;
  }

  private void retryClaimed(Duration delay) {
    if (rules.releases(delay)) {
      record.release(delay);
      done();
      return;
    }
    // In place: the record stays leased (and its key held) until the retry runs.
    record.recordAttempts(attempt);
    RuntimeDelivery next = new RuntimeDelivery(record, attempt + 1, worker, rules);
    worker.retryWaiting(this);
    Runnable due =
        () -> {
          if (!rules.state.stopping) {
            worker.enqueue(next);
          }
        };
    if (delay.isZero()) {
      due.run();
    } else {
      try {
        rules.time.schedule(due, delay.toNanos());
      } catch (RejectedExecutionException e) {
        // The bus is closing: the record is released by consumer.close().
      }
    }
  }

  private void deadLetterClaimed(String reason, Throwable t, int attemptsMade) {
    observe(Instrumentation.Outcome.DEAD_LETTER, t);
    rules.deadLetters.send(record, reason, t, attemptsMade, this::done, this, observed);
  }

  /** The record is settled with the broker: free its slot and its key. */
  private void done() {
    released = true;
    if (worker.isOwnThread()) {
      rules.window.freedBy(worker.index);
    } else {
      rules.window.freeShared();
    }
    if (rules.keyed && key() != null) {
      worker.onReleased(this);
    }
  }

  @Override
  public String toString() {
    return "Delivery{"
        + record.message()
        + ", attempt="
        + attempt
        + ", topic="
        + rules.spec.topic()
        + ", group="
        + rules.spec.group()
        + "}";
  }
}
