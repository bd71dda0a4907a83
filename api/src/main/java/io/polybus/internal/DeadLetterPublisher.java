package io.polybus.internal;

import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.Messages;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Not API. Sends the dead letters of one subscription.
 *
 * <p>Invariants: a record handed to {@link #send} is settled with the broker only by the backend's
 * {@code deadLetter} (publish, then ack the original) once the dead-letter topic confirmed the
 * publish; until then it stays leased (and under KEY ordering its key stays held), so nothing is
 * lost and no later message of its key overtakes it. A failed publish is tried again after a
 * backoff doubling from {@link #FIRST_BACKOFF} to {@link #MAX_BACKOFF}, for as long as the
 * subscription is not stopping; once it is, the record is left to {@code consumer.close()}, which
 * gives it back to be dead-lettered again. {@link #pending()} counts the sends not yet finished
 * either way, for close to wait for within its deadline.
 *
 * <p>Thread-safe: sends start on handler threads and finish on the backend's and the timer's
 * threads.
 */
final class DeadLetterPublisher {
  private static final System.Logger LOG = System.getLogger("io.polybus.runtime");
  static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  /** The longest reason and error message a dead letter carries. */
  static final int MAX_TEXT = 1000;

  private final Backend backend;
  private final ConsumerSpec spec;
  private final String deadLetterTopic;
  private final RuntimeTime time;
  private final BooleanSupplier stopping;
  private final Instrumentation.Observer observer;
  private final AtomicInteger pending = new AtomicInteger();
  private volatile boolean groupEnsured;

  DeadLetterPublisher(
      Backend backend,
      ConsumerSpec spec,
      String deadLetterTopic,
      RuntimeTime time,
      BooleanSupplier stopping,
      Instrumentation.Observer observer) {
    this.backend = backend;
    this.observer = observer;
    this.spec = spec;
    this.deadLetterTopic = deadLetterTopic;
    this.time = time;
    this.stopping = stopping;
  }

  /** Sends still under way. */
  int pending() {
    return pending.get();
  }

  /**
   * Dead-letters {@code record}: {@code onSettled} runs once the dead letter is confirmed and the
   * original acked.
   *
   * @param failure the handler's last exception, or null
   * @param attemptsMade deliveries made before giving up
   * @param delivery the delivery giving up, for the observer
   * @param last the observed attempt that gave up, or null
   */
  void send(
      InboundRecord record,
      String reason,
      Throwable failure,
      int attemptsMade,
      Runnable onSettled,
      Delivery delivery,
      Instrumentation.Attempt last) {
    Message made = deadLetterOf(record.message(), spec, reason, failure, attemptsMade, time.now());
    Instrumentation.Sending sending =
        observer == null ? null : observer.deadLettering(last, delivery, deadLetterTopic, made);
    Message deadLetter = sending == null ? made : sending.messages().get(0);
    pending.incrementAndGet();
    if (!groupEnsured) {
      try {
        // Before the first dead letter (not at subscribe, so reading a dead-letter topic does not
        // create another
        // one): backends that keep nothing for absent groups would otherwise drop it.
        backend.ensureGroup(deadLetterTopic, DefaultPolybus.DEAD_LETTER_GROUP, StartFrom.EARLIEST);
        groupEnsured = true;
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                "creating group "
                    + DefaultPolybus.DEAD_LETTER_GROUP
                    + " on "
                    + deadLetterTopic
                    + " failed; trying again with the next dead letter: "
                    + e);
      }
    }
    publish(record, deadLetter, FIRST_BACKOFF, onSettled, sending);
  }

  private void publish(
      InboundRecord record,
      Message deadLetter,
      Duration nextBackoff,
      Runnable onSettled,
      Instrumentation.Sending sending) {
    CompletableFuture<Void> f;
    try {
      f = backend.deadLetter(record, deadLetterTopic, deadLetter);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (ok, err) -> {
          if (err == null) {
            ended(sending, List.of(), null);
            pending.decrementAndGet();
            onSettled.run();
            return;
          }
          if (stopping.getAsBoolean()) {
            ended(sending, null, err);
            pending.decrementAndGet(); // consumer.close() gives the record back; it will be
            // dead-lettered again
            return;
          }
          LOG.log(
              System.Logger.Level.WARNING,
              () ->
                  "publishing a dead letter of "
                      + record.message().id()
                      + " to "
                      + deadLetterTopic
                      + " failed; retrying in "
                      + nextBackoff.toMillis()
                      + " ms: "
                      + err);
          Duration after =
              nextBackoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                  ? MAX_BACKOFF
                  : nextBackoff.multipliedBy(2);
          try {
            time.schedule(
                () -> publish(record, deadLetter, after, onSettled, sending),
                nextBackoff.toNanos());
          } catch (RejectedExecutionException e) {
            ended(sending, null, err);
            pending.decrementAndGet(); // the bus is closing: consumer.close() gives the record back
          }
        });
  }

  /** Tells the observer, if any, how the dead letter's publish ended. */
  private static void ended(
      Instrumentation.Sending sending, List<PublishReceipt> receipts, Throwable failure) {
    if (sending != null) {
      sending.completed(receipts, failure);
    }
  }

  /**
   * The dead letter of {@code original}: the same id, key, payload, timestamp and headers, except
   * that dead-letter headers it carried from an earlier failure are replaced by this one's (see
   * {@link DeadLetterHeaders}).
   */
  static Message deadLetterOf(
      Message original,
      ConsumerSpec spec,
      String reason,
      Throwable failure,
      int attemptsMade,
      Instant at) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(DeadLetterHeaders.SOURCE_TOPIC, spec.topic());
    h.put(DeadLetterHeaders.GROUP, spec.group());
    h.put(DeadLetterHeaders.ATTEMPTS, Integer.toString(attemptsMade));
    h.put(DeadLetterHeaders.REASON, truncate(reason, MAX_TEXT));
    if (failure != null) {
      h.put(DeadLetterHeaders.ERROR_CLASS, failure.getClass().getName());
      h.put(
          DeadLetterHeaders.ERROR_MESSAGE,
          truncate(String.valueOf(failure.getMessage()), MAX_TEXT));
    }
    h.put(DeadLetterHeaders.FAILED_AT, at.toString());
    return Messages.withHeaders(Messages.withoutHeaders(original, DeadLetterHeaders.ALL), h);
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
