package io.polybus.idempotency;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Message;
import io.polybus.RetryPolicy;
import io.polybus.TypedHandler;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Makes handlers idempotent consumers: a delivery whose message id its group already processed is
 * acknowledged without calling the handler again.
 *
 * <pre>{@code
 * Idempotent idempotent = Idempotent.using(InMemoryProcessedStore.create());
 * bus.subscribe("orders", "billing", idempotent.handler(d -> bill(d.message())));
 * }</pre>
 *
 * <h2>What it does with each delivery</h2>
 *
 * <ol>
 *   <li>The mark is the pair ({@link Delivery#group()}, {@link Message#id()}): ids are kept across
 *       redeliveries, republishing and dead-letter redrive, and every group processes every
 *       message, so each group has its own marks. (A group name used on two topics shares its marks
 *       across them; generated ids never collide, chosen ones might.)
 *   <li><b>Concurrency rule</b>: deliveries of one mark handled by handlers of this {@code
 *       Idempotent} run one at a time. A delivery whose mark is being handled waits for that
 *       handling to end, for at most {@link Builder#concurrentWait(Duration) concurrentWait}
 *       (default 10 s), and then starts over (so it finds the mark if the other succeeded, and runs
 *       the handler if it failed). If the wait runs out it is settled with {@link
 *       Delivery#retry(Duration) retry}({@link Builder#busyRetryDelay(Duration) busyRetryDelay},
 *       default 1 s), which counts an attempt. Waiting instead of retrying at once keeps an SQS
 *       duplicate or a redelivery racing a slow handler from costing an attempt in the common case.
 *   <li>If the store has the mark, the delivery is acked and the handler is not called.
 *   <li>Otherwise the handler is called with a delivery that marks before it acks. A <b>success</b>
 *       is an ack: the handler calling {@link Delivery#ack()}, or, in {@link AckMode#AUTO},
 *       returning without settling (the wrapper then marks and acks itself). The mark is written
 *       before the ack is passed on, so a crash between the two leaves a mark and the redelivery is
 *       skipped. A handler that throws, calls {@link Delivery#retry(Duration)} or {@link
 *       Delivery#deadLetter(String)} leaves no mark: the message is retried (or dead lettered) as
 *       without the wrapper.
 *   <li>If writing the mark fails ({@link ProcessedStoreException}), the ack is not passed on and
 *       the exception propagates: from the handler thread it fails the attempt, which is retried.
 * </ol>
 *
 * <h2>Where it stops</h2>
 *
 * <ul>
 *   <li>The handler's side effects and the mark are two writes: a crash after the side effects and
 *       before the mark runs the handler again on the redelivery. When the side effects are in a
 *       database, {@link JdbcProcessedStore#transactional(TransactionalHandler)} makes the two one
 *       transaction.
 *   <li>The concurrency rule holds within this process, among handlers made by one {@code
 *       Idempotent}: make one per store and share it (it is immutable and thread-safe). Members in
 *       other processes that share a store are not kept apart; two copies handed to two processes
 *       at the same time (an SQS duplicate) can both run before either marks. The transactional
 *       JDBC form keeps them apart with a row lock.
 *   <li>In {@link AckMode#MANUAL} (set {@link Builder#ackMode(AckMode)} to match the subscription),
 *       the rule covers the handler call only: a copy arriving after the handler returned and
 *       before it acked runs again.
 *   <li>A mark the store has forgotten (expiry, size bound, purge) no longer stops a copy.
 * </ul>
 *
 * <p>Immutable and thread-safe; the in-flight table of the concurrency rule is its only state. The
 * store stays the caller's: nothing here closes it.
 */
public final class Idempotent {
  private record Key(String group, String messageId) {}

  private final ProcessedStore store;
  private final AckMode ackMode;
  private final Duration concurrentWait;
  private final Duration busyRetryDelay;

  /**
   * A latch per mark being handled now, counted down when that handling ends. Guarded by itself
   * (putIfAbsent claims, remove(key, latch) releases only one's own claim).
   */
  private final ConcurrentHashMap<Key, CountDownLatch> inFlight = new ConcurrentHashMap<>();

  private Idempotent(Builder b) {
    this.store = b.store;
    this.ackMode = b.ackMode;
    this.concurrentWait = b.concurrentWait;
    this.busyRetryDelay = b.busyRetryDelay;
  }

  /** Wrappers over {@code store} with the defaults ({@link AckMode#AUTO}, waits of 10 s). */
  public static Idempotent using(ProcessedStore store) {
    return builder(store).build();
  }

  public static Builder builder(ProcessedStore store) {
    return new Builder(store);
  }

  /**
   * A builder holding these settings, to derive a changed copy (which has its own in-flight table).
   */
  public Builder newBuilder() {
    return new Builder(store)
        .ackMode(ackMode)
        .concurrentWait(concurrentWait)
        .busyRetryDelay(busyRetryDelay);
  }

  public ProcessedStore store() {
    return store;
  }

  public AckMode ackMode() {
    return ackMode;
  }

  public Duration concurrentWait() {
    return concurrentWait;
  }

  public Duration busyRetryDelay() {
    return busyRetryDelay;
  }

  /** {@code handler}, skipping the messages its group already processed. */
  public Handler handler(Handler handler) {
    Objects.requireNonNull(handler, "handler");
    return delivery -> handle(delivery, handler);
  }

  /**
   * {@code handler}, skipping the messages its group already processed; for {@link
   * io.polybus.Subscriber#subscribe(String, String, io.polybus.Codec, TypedHandler,
   * io.polybus.SubscribeOptions) typed subscriptions}. A payload that fails to decode never reaches
   * it (the subscription dead-letters it), so it is never marked.
   */
  public <T> TypedHandler<T> typedHandler(TypedHandler<T> handler) {
    Objects.requireNonNull(handler, "handler");
    return (value, delivery) -> handle(delivery, d -> handler.handle(value, d));
  }

  private void handle(Delivery delivery, Handler inner) throws Exception {
    Key key = new Key(delivery.group(), delivery.message().id());
    CountDownLatch mine = claim(key, delivery);
    if (mine == null) {
      return;
    }
    try {
      // Checked only once the claim is held: a copy that waited for another handling sees its
      // mark here.
      if (store.isProcessed(key.group(), key.messageId())) {
        delivery.ack();
        return;
      }
      MarkingDelivery marking = new MarkingDelivery(delivery, store);
      inner.handle(marking);
      if (ackMode == AckMode.AUTO && !marking.isSettled()) {
        // Returning is the success of AUTO mode: mark, then ack, before the runtime would ack.
        marking.ack();
      }
    } finally {
      inFlight.remove(key, mine);
      mine.countDown();
    }
  }

  /**
   * Claims {@code key} for this delivery, waiting for another handling of it to end; returns null
   * after settling the delivery for a retry when the wait ran out.
   */
  private CountDownLatch claim(Key key, Delivery delivery) throws InterruptedException {
    CountDownLatch mine = new CountDownLatch(1);
    long deadline = System.nanoTime() + concurrentWait.toNanos();
    while (true) {
      CountDownLatch other = inFlight.putIfAbsent(key, mine);
      if (other == null) {
        return mine;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || !other.await(left, TimeUnit.NANOSECONDS)) {
        delivery.retry(busyRetryDelay);
        return null;
      }
    }
  }

  @Override
  public String toString() {
    return "Idempotent{store="
        + store
        + ", ackMode="
        + ackMode
        + ", concurrentWait="
        + concurrentWait
        + ", busyRetryDelay="
        + busyRetryDelay
        + "}";
  }

  /** The delivery the wrapped handler sees: its ack writes the mark first. */
  private static final class MarkingDelivery extends ForwardingDelivery {
    private final ProcessedStore store;

    MarkingDelivery(Delivery delegate, ProcessedStore store) {
      super(delegate);
      this.store = store;
    }

    @Override
    public boolean ack() {
      if (delegate.isSettled()) {
        return false; // settled otherwise (a retry, a dead letter, a close): no success to mark
      }
      store.markProcessed(delegate.group(), delegate.message().id());
      return delegate.ack();
    }
  }

  /** Builds an {@link Idempotent}. Not thread-safe. */
  public static final class Builder {
    private final ProcessedStore store;
    private AckMode ackMode = AckMode.AUTO;
    private Duration concurrentWait = Duration.ofSeconds(10);
    private Duration busyRetryDelay = Duration.ofSeconds(1);

    private Builder(ProcessedStore store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * The ack mode of the subscriptions the handlers are given to (default {@link AckMode#AUTO}).
     * In AUTO a handler that returns without settling succeeded, and the wrapper marks and acks; in
     * MANUAL it is still pending, and the mark is written when the handler acks.
     */
    public Builder ackMode(AckMode ackMode) {
      this.ackMode = Objects.requireNonNull(ackMode, "ackMode");
      return this;
    }

    /**
     * How long a delivery waits while another delivery of its message id is being handled, before
     * it is retried instead (0 = retry at once). Up to {@link RetryPolicy#MAX_DELAY}.
     */
    public Builder concurrentWait(Duration concurrentWait) {
      this.concurrentWait = checked(concurrentWait, "concurrentWait");
      return this;
    }

    /** The delay of that retry (default 1 s), between 0 and {@link RetryPolicy#MAX_DELAY}. */
    public Builder busyRetryDelay(Duration busyRetryDelay) {
      this.busyRetryDelay = checked(busyRetryDelay, "busyRetryDelay");
      return this;
    }

    public Idempotent build() {
      return new Idempotent(this);
    }
  }

  static Duration checked(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.compareTo(RetryPolicy.MAX_DELAY) > 0) {
      throw new IllegalArgumentException(
          name + " must be between 0 and " + RetryPolicy.MAX_DELAY.toHours() + " hours, was " + d);
    }
    return d;
  }
}
