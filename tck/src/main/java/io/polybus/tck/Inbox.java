package io.polybus.tck;

import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * A {@link Handler} that records every delivery it is given, then passes it on to an optional next
 * handler.
 *
 * <p>Thread-safe: handler threads of any number of subscriptions may call it concurrently while the
 * test thread reads snapshots. Deliveries are recorded before the next handler runs, so a delivery
 * whose handler throws is recorded too; each entry keeps the attempt number, the time ({@link
 * System#nanoTime()}) and the thread.
 */
public final class Inbox implements Handler {
  /** One recorded delivery. */
  public record Received(
      Delivery delivery, Message message, int attempt, long nanoTime, String thread) {}

  private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
  private final Handler next;

  /** An inbox that only records (and so, in {@link io.polybus.AckMode#AUTO}, acks by returning). */
  public Inbox() {
    this(d -> {});
  }

  /** An inbox that records, then calls {@code next}. */
  public Inbox(Handler next) {
    this.next = Objects.requireNonNull(next, "next");
  }

  @Override
  public void handle(Delivery delivery) throws Exception {
    received.add(
        new Received(
            delivery,
            delivery.message(),
            delivery.attempt(),
            System.nanoTime(),
            Thread.currentThread().getName()));
    next.handle(delivery);
  }

  /** How many deliveries were recorded. */
  public int size() {
    return received.size();
  }

  /** A snapshot of every delivery, in the order they were recorded. */
  public List<Received> received() {
    return new ArrayList<>(received);
  }

  /** A snapshot of the delivered messages, duplicates included. */
  public List<Message> messages() {
    List<Message> out = new ArrayList<>();
    for (Received r : received) {
      out.add(r.message());
    }
    return out;
  }

  /**
   * A snapshot of the delivered message ids, duplicates included, in the order they were recorded.
   */
  public List<String> ids() {
    List<String> out = new ArrayList<>();
    for (Received r : received) {
      out.add(r.message().id());
    }
    return out;
  }

  /** The distinct ids delivered so far. */
  public Set<String> distinctIds() {
    return new LinkedHashSet<>(ids());
  }

  /** The deliveries of one message id, in the order they were recorded. */
  public List<Received> of(String id) {
    List<Received> out = new ArrayList<>();
    for (Received r : received) {
      if (r.message().id().equals(id)) {
        out.add(r);
      }
    }
    return out;
  }

  /** Waits until at least {@code n} deliveries were recorded. */
  public Inbox awaitSize(int n, Duration timeout, String what) {
    Await.until(
        timeout,
        () -> n + " deliveries of " + what + " arrived (got " + size() + ")",
        () -> size() >= n);
    return this;
  }

  /** Waits until every id of {@code ids} was delivered at least once. */
  public Inbox awaitIds(Collection<String> ids, Duration timeout, String what) {
    return awaitIds(ids, timeout, () -> what);
  }

  /**
   * Waits until every id of {@code ids} was delivered at least once; {@code what} describes them on
   * failure.
   */
  public Inbox awaitIds(Collection<String> ids, Duration timeout, Supplier<String> what) {
    Set<String> wanted = new HashSet<>(ids);
    Await.until(
        timeout,
        () -> {
          Set<String> missing = new HashSet<>(wanted);
          missing.removeAll(distinctIds());
          return "all "
              + wanted.size()
              + " messages of "
              + what.get()
              + " arrived ("
              + missing.size()
              + " missing, e.g. "
              + missing.stream().limit(3).toList()
              + ")";
        },
        () -> distinctIds().containsAll(wanted));
    return this;
  }

  @Override
  public String toString() {
    return "Inbox{" + size() + " deliveries}";
  }
}
