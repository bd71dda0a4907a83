package io.polybus.internal;

import io.polybus.AckMode;
import io.polybus.BatchHandler;
import io.polybus.Capabilities;
import io.polybus.Codec;
import io.polybus.CodecException;
import io.polybus.ConfigurationException;
import io.polybus.ConsumerLag;
import io.polybus.DeadLetterHeaders;
import io.polybus.Handler;
import io.polybus.Health;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import io.polybus.PolybusException;
import io.polybus.PolybusOptions;
import io.polybus.Priority;
import io.polybus.PublishReceipt;
import io.polybus.RedriveResult;
import io.polybus.Responder;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.TransientPolybusException;
import io.polybus.TypedHandler;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.Messages;
import io.polybus.spi.PortableNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Not API. The bus: argument checks, the subscription registry and the timer shared by its
 * subscriptions.
 */
public final class DefaultPolybus implements Polybus {
  private static final System.Logger LOG = System.getLogger("io.polybus");

  private final PolybusOptions options;
  private final Backend backend;
  private final Capabilities capabilities;
  private final Set<SubscriptionRuntime> subscriptions = ConcurrentHashMap.newKeySet();
  private final RuntimeTime time;

  /** The installed instrumentation, or null: then no call and no allocation is made for it. */
  private Instrumentation.Observer observer;

  private volatile boolean closed;

  /** The requester side of request-reply, made on the first request. */
  private volatile Requests requests;

  DefaultPolybus(PolybusOptions options, Backend backend) {
    this(options, backend, new SystemTime());
  }

  /** With the given time, which the bus closes if it is {@link AutoCloseable}. */
  DefaultPolybus(PolybusOptions options, Backend backend, RuntimeTime time) {
    this.options = options;
    this.backend = backend;
    this.capabilities = Objects.requireNonNull(backend.capabilities(), "backend capabilities");
    this.time = Objects.requireNonNull(time, "time");
  }

  /**
   * Installs {@code instrumentation}: once, by the connector, before the bus is handed out (the
   * handout publishes the field to other threads).
   */
  void instrument(Instrumentation instrumentation) {
    Instrumentation.Observer o = instrumentation.attach(this);
    observer =
        new GuardedObserver(
            Objects.requireNonNull(o, () -> instrumentation + ".attach returned null"));
  }

  Instrumentation.Observer observer() {
    return observer;
  }

  Backend backend() {
    return backend;
  }

  RuntimeTime time() {
    return time;
  }

  void unregister(SubscriptionRuntime s) {
    subscriptions.remove(s);
  }

  @Override
  public PolybusOptions options() {
    return options;
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("this Polybus (" + options.redacted() + ") is closed");
    }
  }

  private void checkMessage(Message m) {
    Objects.requireNonNull(m, "message");
    if (m.payloadSize() > capabilities.maxPayloadBytes()) {
      throw new PayloadTooLargeException(
          "message "
              + m.id()
              + " has a payload of "
              + m.payloadSize()
              + " bytes; the "
              + options.scheme()
              + " backend accepts at most "
              + capabilities.maxPayloadBytes());
    }
    if (m.headers().size() > capabilities.maxHeaders()) {
      throw new PayloadTooLargeException(
          "message "
              + m.id()
              + " has "
              + m.headers().size()
              + " headers; the "
              + options.scheme()
              + " backend accepts at most "
              + capabilities.maxHeaders());
    }
    checkDelay(m);
    int metadata = InternalAccess.metadataBytes(m, Message.MAX_METADATA_BYTES);
    if (metadata > Message.MAX_METADATA_BYTES) {
      throw new PayloadTooLargeException(
          "message "
              + m.id()
              + " has a key and headers of more than "
              + Message.MAX_METADATA_BYTES
              + " bytes in UTF-8 (Message.MAX_METADATA_BYTES, the same on every backend)");
    }
  }

  /**
   * Refuses a delay the backend cannot hold: delivering such a message at once would break the
   * promise that no group sees it before its time.
   */
  private void checkDelay(Message m) {
    if (!m.headers().containsKey(Message.DELIVER_AT_HEADER)) {
      return;
    }
    long delay = Messages.delayMillis(m, System.currentTimeMillis());
    java.time.Duration max = capabilities.maxDeliveryDelay();
    if (delay > max.toMillis()) {
      throw new ConfigurationException(
          "message "
              + m.id()
              + " asks to be delivered at "
              + m.deliverAt()
              + ", "
              + java.time.Duration.ofMillis(delay)
              + " from now; "
              + (max.isZero()
                  ? "the " + options.scheme() + " backend cannot delay delivery"
                  : "the " + options.scheme() + " backend delays delivery by at most " + max)
              + " (Capabilities.maxDeliveryDelay)");
    }
  }

  @Override
  public CompletableFuture<PublishReceipt> publish(String topic, Message message) {
    checkOpen();
    Names.checkTopic(topic);
    checkMessage(message);
    return send(topic, List.of(message)).thenApply(r -> r.get(0));
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publishAll(String topic, List<Message> messages) {
    checkOpen();
    Names.checkTopic(topic);
    Objects.requireNonNull(messages, "messages");
    for (Message m : messages) {
      checkMessage(m);
    }
    if (messages.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    return send(topic, List.copyOf(messages));
  }

  private CompletableFuture<List<PublishReceipt>> send(String topic, List<Message> messages) {
    Instrumentation.Observer o = observer;
    Instrumentation.Sending sending = o == null ? null : o.publishing(topic, messages);
    if (sending == null) {
      try {
        return toBackend(topic, messages);
      } catch (PolybusException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return observed(sending, topic, messages);
  }

  /**
   * Publishes to {@code topic}, its {@link Priority#HIGH} messages to the topic's high-priority
   * lane ({@link PortableNames#priorityLane}): a batch holding both is two backend publishes, each
   * in order, whose receipts come back in the batch's order and name {@code topic}.
   */
  private CompletableFuture<List<PublishReceipt>> toBackend(String topic, List<Message> messages) {
    int high = 0;
    for (Message m : messages) {
      if (m.priority() == Priority.HIGH) {
        high++;
      }
    }
    if (high == 0) {
      return backend.publish(topic, messages);
    }
    String lane = PortableNames.priorityLane(topic);
    if (high == messages.size()) {
      return backend.publish(lane, messages).thenApply(r -> renamed(topic, r));
    }
    List<Message> highs = new ArrayList<>(high);
    List<Message> normals = new ArrayList<>(messages.size() - high);
    for (Message m : messages) {
      (m.priority() == Priority.HIGH ? highs : normals).add(m);
    }
    CompletableFuture<List<PublishReceipt>> h = backend.publish(lane, highs);
    CompletableFuture<List<PublishReceipt>> n = backend.publish(topic, normals);
    return h.thenCombine(
        n,
        (hr, nr) -> {
          List<PublishReceipt> out = new ArrayList<>(messages.size());
          int hi = 0;
          int ni = 0;
          for (Message m : messages) {
            PublishReceipt r = m.priority() == Priority.HIGH ? hr.get(hi++) : nr.get(ni++);
            out.add(new PublishReceipt(topic, r.messageId(), r.position()));
          }
          return out;
        });
  }

  private static List<PublishReceipt> renamed(String topic, List<PublishReceipt> receipts) {
    List<PublishReceipt> out = new ArrayList<>(receipts.size());
    for (PublishReceipt r : receipts) {
      out.add(new PublishReceipt(topic, r.messageId(), r.position()));
    }
    return out;
  }

  /** Publishes what {@code sending} returns, checked again, and reports the end to it. */
  private CompletableFuture<List<PublishReceipt>> observed(
      Instrumentation.Sending sending, String topic, List<Message> given) {
    CompletableFuture<List<PublishReceipt>> f;
    try {
      List<Message> out = sending.messages();
      for (int i = 0; i < out.size(); i++) {
        Message m = out.get(i);
        if (m != given.get(i)) {
          checkMessage(m); // the observer added headers: the limits again
        }
      }
      f = toBackend(topic, out);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    // The observer hears of the end before the caller does.
    return f.whenComplete((r, e) -> sending.completed(r, e == null ? null : unwrap(e)));
  }

  @Override
  public PublishReceipt publishAndWait(String topic, Message message) {
    return await(publish(topic, message));
  }

  @Override
  public List<PublishReceipt> publishAllAndWait(String topic, List<Message> messages) {
    return await(publishAll(topic, messages));
  }

  static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientPolybusException(
          "interrupted while waiting for the broker's confirmation", e);
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    }
  }

  static RuntimeException unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof RuntimeException) {
      return (RuntimeException) t;
    }
    return new TransientPolybusException("publish failed: " + t, t);
  }

  @Override
  public Subscription subscribe(String topic, String group, Handler handler) {
    return subscribe(topic, group, handler, SubscribeOptions.defaults());
  }

  @Override
  public <T> Subscription subscribe(
      String topic,
      String group,
      Codec<T> codec,
      TypedHandler<T> handler,
      SubscribeOptions options) {
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(handler, "handler");
    return subscribe(
        topic,
        group,
        delivery -> {
          T value;
          try {
            value = codec.decode(delivery.message());
          } catch (CodecException e) {
            throw e;
          } catch (RuntimeException e) {
            throw new CodecException(
                "cannot decode message " + delivery.message().id() + ": " + e, e);
          }
          handler.handle(value, delivery);
        },
        options);
  }

  @Override
  public Subscription subscribe(
      String topic, String group, Handler handler, SubscribeOptions opts) {
    Objects.requireNonNull(handler, "handler");
    return start(topic, group, handler, null, opts);
  }

  @Override
  public CompletableFuture<Message> request(String topic, Message request, Duration timeout) {
    checkOpen();
    Requests r = requests;
    if (r == null) {
      synchronized (this) {
        if (requests == null) {
          requests = new Requests(this, time, observer);
        }
        r = requests;
      }
    }
    return r.request(topic, request, timeout);
  }

  @Override
  public <Q, R> CompletableFuture<R> request(
      String topic, Q request, Codec<Q> requestCodec, Codec<R> replyCodec, Duration timeout) {
    Objects.requireNonNull(requestCodec, "requestCodec");
    Objects.requireNonNull(replyCodec, "replyCodec");
    Message m = Message.builder().value(requestCodec, request).build();
    return request(topic, m, timeout)
        .thenApply(
            reply -> {
              try {
                return replyCodec.decode(reply);
              } catch (CodecException e) {
                throw e;
              } catch (RuntimeException e) {
                throw new CodecException(
                    "cannot decode the reply to request " + m.id() + ": " + e, e);
              }
            });
  }

  @Override
  public Subscription respond(
      String topic, String group, Responder responder, SubscribeOptions opts) {
    Objects.requireNonNull(responder, "responder");
    Objects.requireNonNull(opts, "options");
    if (opts.ackMode() == AckMode.MANUAL) {
      throw new IllegalArgumentException(
          "a responder's subscription cannot use AckMode.MANUAL: returning the reply settles the"
              + " request");
    }
    return subscribe(
        topic, group, new Responding(this, topic, responder, opts.retryPolicy()), opts);
  }

  @Override
  public Subscription subscribeBatch(
      String topic, String group, BatchHandler handler, SubscribeOptions opts) {
    Objects.requireNonNull(handler, "handler");
    return start(topic, group, null, handler, opts);
  }

  private Subscription start(
      String topic,
      String group,
      Handler handler,
      BatchHandler batchHandler,
      SubscribeOptions opts) {
    checkOpen();
    Names.checkTopic(topic);
    Names.checkGroup(group);
    Objects.requireNonNull(opts, "options");
    Ordering ordering = opts.ordering();
    if (ordering == null) {
      ordering = capabilities.orderedByKey() ? Ordering.KEY : Ordering.NONE;
    } else if (ordering == Ordering.KEY && !capabilities.orderedByKey()) {
      throw new IllegalArgumentException(
          "ordering KEY was requested, but the "
              + options.scheme()
              + " backend ("
              + options.redacted()
              + ") does not declare orderedByKey; use Ordering.NONE"
              + " or a configuration of the backend that orders by key");
    }
    String missing =
        switch (opts.startFrom().kind()) {
          case TIMESTAMP -> capabilities.replayFromTimestamp() ? null : "replayFromTimestamp";
          case OFFSET -> capabilities.replayFromOffset() ? null : "replayFromOffset";
          default -> null;
        };
    if (missing != null) {
      throw new IllegalArgumentException(
          "startFrom "
              + opts.startFrom()
              + " was requested, but the "
              + options.scheme()
              + " backend ("
              + options.redacted()
              + ") does not declare "
              + missing
              + "; use"
              + " StartFrom.EARLIEST or LATEST");
    }
    String dlq =
        opts.deadLetterTopic() != null
            ? opts.deadLetterTopic()
            : defaultDeadLetterTopic(topic, group);
    ConsumerSpec spec =
        new ConsumerSpec(
            topic, group, ordering, opts.startFrom(), opts.ackTimeout(), opts.maxInFlight());
    BackendConsumer consumer = backend.subscribe(spec);
    if (opts.priority()) {
      ConsumerSpec laneSpec =
          new ConsumerSpec(
              PortableNames.priorityLane(topic),
              PortableNames.priorityLane(group),
              ordering,
              opts.startFrom(),
              opts.ackTimeout(),
              opts.maxInFlight());
      BackendConsumer high;
      try {
        high = backend.subscribe(laneSpec);
      } catch (RuntimeException e) {
        consumer.close();
        throw e;
      }
      consumer = new PriorityLanes(high, consumer);
    }
    SubscriptionRuntime s =
        new SubscriptionRuntime(this, consumer, spec, handler, batchHandler, opts, dlq);
    subscriptions.add(s);
    if (closed) {
      // Lost a race with close(): do not leave a subscription running on a closed bus.
      s.close(Duration.ZERO);
      throw new IllegalStateException("this Polybus (" + options.redacted() + ") is closed");
    }
    s.start();
    return s;
  }

  /** The default dead-letter topic; the rule lives in {@link PortableNames#deadLetterTopic}. */
  public static String defaultDeadLetterTopic(String topic, String group) {
    return PortableNames.deadLetterTopic(topic, group);
  }

  @Override
  public Health health() {
    if (closed) {
      return Health.down("closed");
    }
    for (SubscriptionRuntime s : subscriptions) {
      String trouble = s.trouble();
      if (trouble != null) {
        return Health.down(
            "subscription to topic '" + s.topic() + "' in group '" + s.group() + "' " + trouble);
      }
    }
    try {
      Health h = backend.health();
      return h != null ? h : Health.down("backend returned no health");
    } catch (RuntimeException e) {
      return Health.down(
          "health check failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  @Override
  public RedriveResult redrive(String deadLetterTopic, Duration idle) {
    checkOpen();
    Names.checkTopic(deadLetterTopic);
    Objects.requireNonNull(idle, "idle");
    if (idle.isNegative() || idle.isZero()) {
      throw new IllegalArgumentException("idle must be positive, was " + idle);
    }
    ConsumerSpec spec =
        new ConsumerSpec(
            deadLetterTopic,
            DEAD_LETTER_GROUP,
            Ordering.NONE,
            StartFrom.EARLIEST,
            Duration.ofSeconds(30),
            1000);
    long republished = 0;
    long skipped = 0;
    // Skipped records stay leased until the consumer closes, so one pass never sees them twice.
    try (BackendConsumer consumer = backend.subscribe(spec)) {
      while (true) {
        List<InboundRecord> batch;
        try {
          batch = consumer.poll(1000, idle);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new TransientPolybusException(
              "interrupted during redrive of " + deadLetterTopic, e);
        }
        if (batch.isEmpty()) {
          break;
        }
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (InboundRecord r : batch) {
          String source = r.message().header(DeadLetterHeaders.SOURCE_TOPIC);
          if (source == null || !Names.isPortable(source)) {
            skipped++;
            continue;
          }
          Message original = Messages.withoutHeaders(r.message(), DeadLetterHeaders.ALL);
          Instrumentation.Observer o = observer;
          Instrumentation.Sending sending =
              o == null ? null : o.redriving(deadLetterTopic, r.message(), source, original);
          CompletableFuture<List<PublishReceipt>> sent =
              sending == null
                  ? toBackend(source, List.of(original))
                  : observed(sending, source, List.of(original));
          pending.add(sent.thenRun(r::ack));
          republished++;
        }
        await(CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])));
      }
    }
    return new RedriveResult(republished, skipped);
  }

  @Override
  public ConsumerLag lag(String topic, String group) {
    checkOpen();
    Names.checkTopic(topic);
    Names.checkGroup(group);
    if (capabilities.lagAccuracy() == ConsumerLag.Accuracy.NONE) {
      throw new UnsupportedOperationException(
          "the "
              + options.scheme()
              + " backend ("
              + options.redacted()
              + ") reports no consumer lag (its lagAccuracy capability is NONE)");
    }
    ConsumerLag lag = backend.lag(topic, group);
    if (lag == null) {
      throw new IllegalStateException("the " + options.scheme() + " backend returned no lag");
    }
    return lag;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Requests r = requests;
    if (r != null) {
      r.close(); // fails what is in flight, before the reply subscription closes with the others
    }
    for (SubscriptionRuntime s : List.copyOf(subscriptions)) {
      try {
        s.close(Subscription.DEFAULT_DRAIN);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "closing subscription " + s + " failed", e);
      }
    }
    if (time instanceof AutoCloseable) {
      try {
        ((AutoCloseable) time).close();
      } catch (Exception e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "closing the timer of " + options.redacted() + " failed",
            e);
      }
    }
    try {
      backend.close();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "closing backend " + options.redacted() + " failed", e);
    }
    if (observer != null) {
      observer.closed();
    }
  }

  @Override
  public String toString() {
    return "Polybus{" + options.redacted() + (closed ? ", closed" : "") + "}";
  }
}
