package io.polybus.internal;

import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusTimeoutException;
import io.polybus.RemoteFailureException;
import io.polybus.RequestHeaders;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spi.Messages;
import io.polybus.spi.PortableNames;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * Not API. The requester side of request-reply for one bus: its reply topic, the requests in
 * flight, their timeouts.
 *
 * <p>Invariants: the reply topic's subscription exists (its group created) before the first request
 * is published, so no reply can precede it; a request is in {@link #pending} from just before its
 * publish until exactly one of reply, timeout, failed publish, cancel or close removes it, and only
 * the remover completes its future. A reply whose correlation id is not pending is dropped and
 * reported to the observer.
 */
final class Requests {
  private static final System.Logger LOG = System.getLogger("io.polybus.runtime");
  static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private final DefaultPolybus bus;
  private final RuntimeTime time;
  private final Instrumentation.Observer observer;

  /** A request in flight: where it went, and its reply. */
  private record Pending(String topic, CompletableFuture<Message> reply) {}

  private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
  private volatile String replyTopic;
  private Subscription replies;
  private boolean closed;

  Requests(DefaultPolybus bus, RuntimeTime time, Instrumentation.Observer observer) {
    this.bus = bus;
    this.time = time;
    this.observer = observer;
  }

  CompletableFuture<Message> request(String topic, Message request, Duration timeout) {
    Names.checkTopic(topic);
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "request timeout must be more than 0 and at most 1 hour, was " + timeout);
    }
    String replyTo = replyTopic();
    String correlation = Ids.next(System.currentTimeMillis());
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put(RequestHeaders.REPLY_TO, replyTo);
    extra.put(RequestHeaders.CORRELATION_ID, correlation);
    Message out = Messages.withHeaders(request, extra);
    CompletableFuture<Message> reply = new CompletableFuture<>();
    Pending p = new Pending(topic, reply);
    pending.put(correlation, p);
    // Cancelling (or any completion) forgets the request; only the remover completes.
    reply.whenComplete((m, e) -> pending.remove(correlation, p));
    try {
      time.schedule(
          () -> {
            if (pending.remove(correlation, p)) {
              reply.completeExceptionally(
                  new PolybusTimeoutException(
                      "no reply to request "
                          + request.id()
                          + " on topic '"
                          + topic
                          + "' within "
                          + timeout));
            }
          },
          timeout.toNanos());
    } catch (RejectedExecutionException e) {
      pending.remove(correlation, p);
      throw new IllegalStateException("this Polybus is closed", e);
    }
    bus.publish(topic, out)
        .whenComplete(
            (receipt, failure) -> {
              if (failure != null && pending.remove(correlation, p)) {
                reply.completeExceptionally(unwrap(failure));
              }
            });
    return reply;
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause()
        : t;
  }

  /** The reply topic, subscribed on first use: its group exists before this returns. */
  private String replyTopic() {
    String t = replyTopic;
    if (t != null) {
      return t;
    }
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("this Polybus is closed");
      }
      if (replyTopic == null) {
        String id = Ids.next(System.currentTimeMillis()).toLowerCase(Locale.ROOT);
        String name = PortableNames.REPLY_TOPIC_PREFIX + id;
        replies =
            bus.subscribe(
                name,
                // A group of its own too: on Kafka a group id is cluster-wide, and one shared
                // "requester" group would make every requester rebalance all the others.
                "requester." + id,
                this::onReply,
                SubscribeOptions.builder()
                    .ordering(Ordering.NONE)
                    .startFrom(StartFrom.EARLIEST)
                    .build());
        replyTopic = name;
      }
      return replyTopic;
    }
  }

  private void onReply(Delivery d) {
    Message m = d.message();
    String correlation = m.header(RequestHeaders.CORRELATION_ID);
    Pending p = correlation == null ? null : pending.remove(correlation);
    if (p == null) {
      LOG.log(
          System.Logger.Level.DEBUG,
          () -> "dropped a reply for no request in flight on " + replyTopic + ": " + m);
      if (observer != null) {
        observer.replyDropped(replyTopic, m);
      }
      return;
    }
    String errorClass = m.header(RequestHeaders.ERROR_CLASS);
    if (errorClass != null) {
      p.reply.completeExceptionally(
          new RemoteFailureException(p.topic, errorClass, m.header(RequestHeaders.ERROR_MESSAGE)));
    } else {
      p.reply.complete(Messages.withoutHeaders(m, RequestHeaders.ALL));
    }
  }

  /** Fails what is in flight, closes the reply subscription, deletes the reply topic. */
  void close() {
    String t;
    Subscription s;
    synchronized (this) {
      closed = true;
      t = replyTopic;
      s = replies;
    }
    for (String c : pending.keySet()) {
      Pending p = pending.remove(c);
      if (p != null) {
        p.reply.completeExceptionally(
            new IllegalStateException("the Polybus closed before a reply came"));
      }
    }
    if (s != null) {
      s.close(Duration.ZERO);
      try {
        bus.backend().deleteTopic(t);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "could not delete reply topic " + t, e);
      }
    }
  }
}
