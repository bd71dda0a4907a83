package io.polybus.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ChannelContinuationTimeoutException;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import io.polybus.BrokerUnavailableException;
import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.Messages;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A bus's connection to RabbitMQ: one connection for publishing (confirms) and one for consuming,
 * so that the broker's flow control on publishers never slows acks down; both recover automatically
 * after a connection loss. Thread-safe. Topology (exchanges, queues, bindings) is declared on a
 * dedicated channel, serialized, and remembered per backend so a hot publish path does no round
 * trip; see {@link RabbitNames} for the names and {@link AmqpMapping} for the message mapping.
 */
final class RabbitMqBackend implements Backend {
  private static final System.Logger LOG = System.getLogger("io.polybus.rabbitmq");

  /**
   * Test hook: told every exchange and queue name this backend declares, so tests can delete them.
   */
  static volatile Consumer<String> declared;

  private final RabbitMqBackendProvider.Settings settings;
  private final Connection publishConnection;
  private final Connection consumeConnection;
  private final Capabilities capabilities;
  private final ConfirmPublisher publisher;
  private final ExecutorService completer;
  private final ScheduledExecutorService timer;

  /**
   * Declares wait queues off the settling thread (a declaration is a round trip; release must not
   * wait).
   */
  private final ExecutorService retrier;

  private final Object adminLock = new Object();
  private Channel admin; // guarded by adminLock
  private final Set<String> knownExchanges = ConcurrentHashMap.newKeySet();
  private final Set<String> knownWaitQueues = ConcurrentHashMap.newKeySet();

  /** Per topic, the wait queues of delayed publishes this bus declared: {@link #deleteTopic}'s. */
  private final Map<String, Set<String>> topicWaitQueues = new ConcurrentHashMap<>();

  /** The groups this bus declared queues for, per topic: what {@link #deleteTopic} deletes. */
  private final ConcurrentHashMap<String, Set<String>> declaredGroups = new ConcurrentHashMap<>();

  /**
   * Wait queues whose messages {@link #lag} counts: those this bus declared and those a delivery
   * came back from ({@code x-first-death-queue}); kept apart from {@link #knownWaitQueues}, which
   * decides what need not be declared again.
   */
  private final Set<String> lagWaitQueues = ConcurrentHashMap.newKeySet();

  /** The live members of this bus, whose unacknowledged deliveries {@link #lag} counts. */
  private final Set<RabbitMqConsumer> consumers = ConcurrentHashMap.newKeySet();

  private final AtomicBoolean closed = new AtomicBoolean();

  RabbitMqBackend(
      RabbitMqBackendProvider.Settings settings,
      Connection publishConnection,
      Connection consumeConnection) {
    this.settings = settings;
    this.publishConnection = publishConnection;
    this.consumeConnection = consumeConnection;
    this.capabilities =
        Capabilities.builder()
            .orderedByKey(settings.partitions() > 1)
            .replay(false)
            .durable(true)
            .nativeDelayedRetry(true)
            .mayDuplicate(false)
            // Partitioned: each partition queue has a single active consumer, and RabbitMQ makes
            // the first member to
            // register active on all of them; later members are standbys that take over, they do
            // not share the work.
            .competingConsumers(settings.partitions() <= 1)
            // The broker tells ready messages only; unacknowledged ones are counted where this bus
            // holds them (docs/semantics.md).
            .lagAccuracy(ConsumerLag.Accuracy.APPROXIMATE)
            .maxPayloadBytes(settings.maxPayloadBytes())
            .maxHeaders(RabbitMqBackendProvider.MAX_HEADERS)
            .maxDeliveryDelay(MAX_DELIVERY_DELAY)
            .build();
    this.completer = Executors.newSingleThreadExecutor(r -> daemon(r, "polybus-rabbitmq-confirms"));
    this.retrier = Executors.newSingleThreadExecutor(r -> daemon(r, "polybus-rabbitmq-retry"));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "polybus-rabbitmq-timer"));
    // A channel error on publish is most likely an exchange deleted behind our back: declare again
    // next time.
    this.publisher =
        new ConfirmPublisher(
            publishConnection,
            completer,
            settings.publishTimeout().toNanos(),
            settings.description(),
            knownExchanges::clear);
    long tick = Math.max(10, Math.min(1000, settings.publishTimeout().toMillis() / 4));
    timer.scheduleWithFixedDelay(publisher::expire, tick, tick, TimeUnit.MILLISECONDS);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Delayed publishes wait in TTL queues; AMQP caps a TTL at 2^32-1 ms (49 days), and a delay is
   * rounded up by at most 19 % to its wait step.
   */
  static final Duration MAX_DELIVERY_DELAY = Duration.ofDays(30);

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    checkOpen();
    String exchange = RabbitNames.exchange(topic);
    try {
      declareExchange(topic);
    } catch (PolybusException e) {
      return CompletableFuture.failedFuture(e);
    }
    int partitions = settings.partitions();
    List<ConfirmPublisher.Out> out = new ArrayList<>(messages.size());
    List<PublishReceipt> receipts = new ArrayList<>(messages.size());
    int frameMax = publishConnection.getFrameMax();
    long now = System.currentTimeMillis();
    for (Message m : messages) {
      int partition =
          partitions > 1
              ? RabbitNames.partition(m.key() != null ? m.key() : m.id(), partitions)
              : -1;
      long delay = Messages.delayMillis(m, now);
      AMQP.BasicProperties props = AmqpMapping.properties(m, partition, 0, delay > 0);
      byte[] body = Messages.payloadNoCopy(m);
      String refusal = AmqpMapping.refusal(m, props, body.length, frameMax);
      if (refusal != null) {
        // Checked for every message before any is sent, so nothing of the batch is published.
        return CompletableFuture.failedFuture(new PayloadTooLargeException(refusal));
      }
      if (delay > 0) {
        // Mandatory: a wait queue deleted behind our back returns the message instead of
        // confirming it into nowhere.
        String waitQueue;
        try {
          waitQueue = topicWaitQueue(topic, RabbitNames.waitStepMillis(Duration.ofMillis(delay)));
        } catch (PolybusException e) {
          return CompletableFuture.failedFuture(e);
        }
        out.add(new ConfirmPublisher.Out("", waitQueue, props, body, true));
      } else {
        out.add(new ConfirmPublisher.Out(exchange, AmqpMapping.routingKey(m), props, body));
      }
      receipts.add(
          new PublishReceipt(topic, m.id(), partition >= 0 ? "partition " + partition : ""));
    }
    return publisher.publish(out).thenApply(v -> receipts);
  }

  /**
   * Declares (once per bus) the wait queue where messages published to {@code topic} with a delay
   * of {@code step} ms wait: its messages all live {@code step} ms, so they expire in the order
   * they came, and expiring dead-letters each into the topic's exchange, which routes it to the
   * groups (and partitions, by its header) as if it were published then.
   */
  private String topicWaitQueue(String topic, long step) {
    String waitQueue = RabbitNames.topicWaitQueue(topic, step);
    if (knownWaitQueues.contains(waitQueue)) {
      return waitQueue;
    }
    Map<String, Object> args = new HashMap<>();
    args.put("x-message-ttl", step);
    args.put("x-dead-letter-exchange", RabbitNames.exchange(topic));
    admin(
        ch -> ch.queueDeclare(waitQueue, true, false, false, args),
        "declare wait queue " + waitQueue);
    knownWaitQueues.add(waitQueue);
    topicWaitQueues.computeIfAbsent(topic, t -> ConcurrentHashMap.newKeySet()).add(waitQueue);
    notifyDeclared(waitQueue);
    return waitQueue;
  }

  /**
   * Copies a message into the wait queue of {@code sourceQueue} for {@code delay} (rounded up to a
   * wait step) with the attempts made so far; the future completes when the broker confirmed the
   * copy. The wait queue dead-letters it back into {@code sourceQueue} when its time-to-live
   * expires.
   */
  CompletableFuture<Void> delayRelease(
      String sourceQueue, Message message, int attempts, Duration delay) {
    long step = RabbitNames.waitStepMillis(delay);
    String waitQueue = RabbitNames.waitQueue(sourceQueue, step);
    return CompletableFuture.supplyAsync(
            () -> {
              if (knownWaitQueues.add(waitQueue)) {
                Map<String, Object> args = new HashMap<>();
                args.put("x-message-ttl", step);
                args.put("x-dead-letter-exchange", "");
                args.put("x-dead-letter-routing-key", sourceQueue);
                if (RabbitNames.isReplyQueue(sourceQueue)) {
                  args.put("x-expires", RabbitNames.REPLY_QUEUE_EXPIRES_MILLIS);
                }
                try {
                  admin(
                      ch -> ch.queueDeclare(waitQueue, true, false, false, args),
                      "declare wait queue " + waitQueue);
                } catch (RuntimeException e) {
                  knownWaitQueues.remove(waitQueue);
                  throw e;
                }
                notifyDeclared(waitQueue);
              }
              lagWaitQueues.add(waitQueue);
              return waitQueue;
            },
            retrier)
        .thenCompose(
            q -> {
              // Through the default exchange straight into the wait queue, which dead-letters it
              // back into sourceQueue.
              AMQP.BasicProperties props = AmqpMapping.properties(message, -1, attempts);
              byte[] body = Messages.payloadNoCopy(message);
              String refusal =
                  AmqpMapping.refusal(message, props, body.length, publishConnection.getFrameMax());
              if (refusal != null) {
                // Its wait-queue headers (key, attempts) made it too large: the caller releases it
                // at once instead.
                return CompletableFuture.failedFuture(new PayloadTooLargeException(refusal));
              }
              // Mandatory: if the wait queue was deleted behind our back, the broker returns the
              // copy instead of confirming it into nowhere (and the original being acked).
              return publisher
                  .publish(List.of(new ConfirmPublisher.Out("", q, props, body, true)))
                  .whenComplete(
                      (ok, err) -> {
                        if (err != null) {
                          knownWaitQueues.remove(q); // declared again by the next delayed retry
                        }
                      });
            });
  }

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    checkOpen();
    // startFrom does not matter: a new queue holds only what is routed to it from now on (no
    // replay).
    declareExchange(topic);
    for (String q : groupQueues(topic, group)) {
      notifyDeclared(q);
    }
  }

  /** Declares the queues of a group and binds them; returns their names. */
  private List<String> groupQueues(String topic, String group) {
    String exchange = RabbitNames.exchange(topic);
    int n = settings.partitions();
    List<String> queues = new ArrayList<>(n);
    declaredGroups.computeIfAbsent(topic, t -> ConcurrentHashMap.newKeySet()).add(group);
    // A reply topic's queues expire once unused (no consumer) for a while: what a requester that
    // died leaves goes away on its own. Ordinary topics' queues never expire.
    Map<String, Object> extra =
        RabbitNames.isReplyTopic(topic)
            ? Map.of("x-expires", RabbitNames.REPLY_QUEUE_EXPIRES_MILLIS)
            : Map.of();
    if (n <= 1) {
      String q = RabbitNames.groupQueue(topic, group);
      Map<String, Object> args = new HashMap<>(extra);
      args.put("x-queue-type", "quorum");
      admin(
          ch -> {
            ch.queueDeclare(q, true, false, false, args);
            ch.queueBind(q, exchange, "");
            return null;
          },
          "declare queue " + q);
      queues.add(q);
      return queues;
    }
    String partitionExchange = RabbitNames.partitionExchange(topic);
    admin(
        ch -> {
          ch.exchangeDeclare(partitionExchange, BuiltinExchangeType.HEADERS, true);
          ch.exchangeBind(partitionExchange, exchange, "");
          return null;
        },
        "declare exchange " + partitionExchange);
    notifyDeclared(partitionExchange);
    Map<String, Object> partitionArgs = new HashMap<>(extra);
    partitionArgs.put("x-queue-type", "quorum");
    partitionArgs.put("x-single-active-consumer", true);
    for (int i = 0; i < n; i++) {
      String q = RabbitNames.partitionQueue(topic, group, i);
      int partition = i;
      admin(
          ch -> {
            ch.queueDeclare(q, true, false, false, partitionArgs);
            ch.queueBind(
                q,
                partitionExchange,
                "",
                Map.of("x-match", "all", AmqpMapping.PARTITION, partition));
            return null;
          },
          "declare queue " + q);
      queues.add(q);
    }
    return queues;
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    checkOpen();
    declareExchange(spec.topic());
    List<String> queues = groupQueues(spec.topic(), spec.group());
    for (String q : queues) {
      notifyDeclared(q);
    }
    // basic.qos applies per consumer; quorum queues have no channel-wide limit, so partitions share
    // maxInFlight.
    int prefetch = Math.max(1, Math.min(65_535, spec.maxInFlight() / queues.size()));
    Channel ch = null;
    try {
      ch = consumeConnection.createChannel();
      if (ch == null) {
        throw new BrokerUnavailableException("no channel available on " + settings.description());
      }
      RabbitMqConsumer consumer =
          new RabbitMqConsumer(
              this,
              ch,
              queues,
              prefetch,
              settings.description()
                  + " queue "
                  + queues.get(0)
                  + (queues.size() > 1 ? " (+" + (queues.size() - 1) + " partitions)" : ""));
      consumers.add(consumer);
      return consumer;
    } catch (IOException | AlreadyClosedException e) {
      closeQuietly(ch);
      throw failure("subscribe to " + spec.topic() + "/" + spec.group(), e);
    }
  }

  /** A member closed: its deliveries went back to their queues. */
  void closed(RabbitMqConsumer consumer) {
    consumers.remove(consumer);
  }

  /** Notes the wait queue a delivery came back from, so {@link #lag} counts that queue too. */
  void sawDelivery(AMQP.BasicProperties props) {
    Map<String, Object> headers = props.getHeaders();
    Object first = headers == null ? null : headers.get("x-first-death-queue");
    if (first != null && RabbitNames.isWaitQueue(first.toString())) {
      lagWaitQueues.add(first.toString());
    }
  }

  /**
   * Per queue of the group (one, or one per partition): its ready messages (a passive {@code
   * queue.declare}, which tells ready messages only), plus the deliveries of it that members of
   * this bus hold unacknowledged, plus the ready messages of its wait queues this bus knows. A
   * group whose queue does not exist lags by 0: the broker keeps nothing for a group before it
   * exists.
   */
  @Override
  public ConsumerLag lag(String topic, String group) {
    checkOpen();
    int n = settings.partitions();
    List<String> queues = new ArrayList<>();
    if (n <= 1) {
      queues.add(RabbitNames.groupQueue(topic, group));
    } else {
      for (int i = 0; i < n; i++) {
        queues.add(RabbitNames.partitionQueue(topic, group, i));
      }
    }
    String what = "read the lag of group '" + group + "' on '" + topic + "'";
    Map<String, Long> shares = new LinkedHashMap<>();
    Channel[] probe = new Channel[1];
    try {
      for (int i = 0; i < queues.size(); i++) {
        String q = queues.get(i);
        Long ready = ready(probe, q);
        long share = 0;
        if (ready != null) {
          share += ready;
          // Read after the ready count: a message delivered in between counts twice, never not
          // at all.
          for (RabbitMqConsumer c : consumers) {
            share += c.held(q);
          }
          for (String w : lagWaitQueues) {
            if (RabbitNames.isWaitQueueOf(w, q)) {
              Long waiting = ready(probe, w);
              if (waiting == null) {
                lagWaitQueues.remove(w); // deleted behind our back
              } else {
                share += waiting;
              }
            }
          }
        }
        shares.put(Integer.toString(i), share);
      }
    } catch (ChannelContinuationTimeoutException e) {
      throw new PolybusTimeoutException(
          "could not " + what + " on " + settings.description() + ": " + e.getMessage(), e);
    } catch (IOException | AlreadyClosedException e) {
      throw failure(what, e);
    } finally {
      closeQuietly(probe[0]);
    }
    Instant at = Instant.now();
    return n <= 1
        ? ConsumerLag.of(topic, group, shares.get("0"), null, ConsumerLag.Accuracy.APPROXIMATE, at)
        : ConsumerLag.ofPartitions(
            topic, group, shares, null, ConsumerLag.Accuracy.APPROXIMATE, at);
  }

  /**
   * The ready messages of {@code queue}, or null when it does not exist: the broker answers that by
   * closing the channel, so the next call opens {@code probe[0]} again.
   */
  private Long ready(Channel[] probe, String queue) throws IOException {
    if (probe[0] == null || !probe[0].isOpen()) {
      probe[0] = publishConnection.createChannel();
      if (probe[0] == null) {
        throw new IOException("no channel available");
      }
    }
    try {
      return (long) probe[0].queueDeclarePassive(queue).getMessageCount();
    } catch (IOException e) {
      if (e.getCause() instanceof ShutdownSignalException s
          && !s.isHardError()
          && s.getReason() instanceof AMQP.Channel.Close close
          && close.getReplyCode() == AMQP.NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Deletes the topic's exchange (and partition exchange) and, for every group this bus declared on
   * it, its group queue, its partition queues (this bus's {@code partitions}) and the wait queues
   * this bus declared or saw for them. AMQP cannot list queues, so a group only another bus
   * declared is not known here; for a reply topic (its one group {@code requester}, declared by the
   * bus that deletes it) that is everything. Names are exact ({@code a:g}, never a pattern), so
   * topic {@code a.b} is never touched by deleting {@code a}. {@code queue.delete} and {@code
   * exchange.delete} of what does not exist succeed, so this is idempotent.
   */
  @Override
  public boolean deleteTopic(String topic) {
    checkOpen();
    Set<String> groups = declaredGroups.remove(topic);
    List<String> queues = new ArrayList<>();
    for (String g : groups == null ? Set.<String>of() : groups) {
      String q = RabbitNames.groupQueue(topic, g);
      queues.add(q);
      for (int i = 0; i < settings.partitions(); i++) {
        queues.add(RabbitNames.partitionQueue(topic, g, i));
      }
    }
    List<String> doomed = new ArrayList<>();
    for (String q : queues) {
      for (String w : knownWaitQueues) {
        if (RabbitNames.isWaitQueueOf(w, q)) {
          doomed.add(w);
        }
      }
      for (String w : lagWaitQueues) {
        if (RabbitNames.isWaitQueueOf(w, q) && !doomed.contains(w)) {
          doomed.add(w);
        }
      }
    }
    doomed.addAll(queues);
    Set<String> delayed = topicWaitQueues.remove(topic);
    if (delayed != null) {
      doomed.addAll(delayed);
    }
    for (String q : doomed) {
      admin(ch -> ch.queueDelete(q), "delete queue " + q);
      knownWaitQueues.remove(q);
      lagWaitQueues.remove(q);
    }
    String exchange = RabbitNames.exchange(topic);
    String partitionExchange = RabbitNames.partitionExchange(topic);
    admin(ch -> ch.exchangeDelete(partitionExchange), "delete exchange " + partitionExchange);
    admin(ch -> ch.exchangeDelete(exchange), "delete exchange " + exchange);
    knownExchanges.remove(exchange);
    return true;
  }

  private void declareExchange(String topic) {
    String exchange = RabbitNames.exchange(topic);
    if (knownExchanges.contains(exchange)) {
      return;
    }
    admin(
        ch -> ch.exchangeDeclare(exchange, BuiltinExchangeType.FANOUT, true),
        "declare exchange " + exchange);
    knownExchanges.add(exchange);
    notifyDeclared(exchange);
  }

  private static void notifyDeclared(String name) {
    Consumer<String> hook = declared;
    if (hook != null) {
      hook.accept(name);
    }
  }

  interface AdminCall<T> {
    T call(Channel ch) throws IOException;
  }

  /** Runs a topology call on the admin channel, reopening it after a channel error. */
  <T> T admin(AdminCall<T> call, String what) {
    synchronized (adminLock) {
      try {
        if (admin == null || !admin.isOpen()) {
          admin = publishConnection.createChannel();
          if (admin == null) {
            throw new IOException("no channel available");
          }
        }
        return call.call(admin);
      } catch (IOException | AlreadyClosedException e) {
        throw failure(what, e);
      }
    }
  }

  private PolybusException failure(String what, Exception e) {
    Throwable cause =
        e instanceof IOException && e.getCause() instanceof ShutdownSignalException s ? s : e;
    String detail = cause.getMessage();
    if (cause instanceof ShutdownSignalException s && !s.isHardError()) {
      // A channel error: the broker refused the call (for example a queue declared with other
      // arguments).
      return new io.polybus.ConfigurationException(
          "RabbitMQ refused to " + what + " on " + settings.description() + ": " + detail, e);
    }
    return new BrokerUnavailableException(
        "could not " + what + " on " + settings.description() + ": " + detail, e);
  }

  @Override
  public Health health() {
    if (closed.get()) {
      return Health.down("RabbitMQ " + settings.description() + ": this backend is closed");
    }
    try {
      // Opening and closing a channel is a real round trip on the same connection publishes use.
      Channel ch = publishConnection.createChannel();
      if (ch == null) {
        return Health.down("RabbitMQ " + settings.description() + ": no channel available");
      }
      String version = String.valueOf(publishConnection.getServerProperties().get("version"));
      ch.close();
      return Health.up("RabbitMQ " + version + " at " + settings.description());
    } catch (IOException | TimeoutException | RuntimeException e) {
      return Health.down("RabbitMQ " + settings.description() + " unreachable: " + e.getMessage());
    }
  }

  /**
   * Runs {@code task} every {@code millis} on this backend's timer until the returned future is
   * cancelled.
   */
  java.util.concurrent.ScheduledFuture<?> every(long millis, Runnable task) {
    return timer.scheduleWithFixedDelay(task, millis, millis, TimeUnit.MILLISECONDS);
  }

  void closeQuietly(Channel ch) {
    if (ch == null) {
      return;
    }
    try {
      if (ch.isOpen()) {
        ch.close();
      }
    } catch (IOException | TimeoutException | RuntimeException e) {
      // already gone
    }
  }

  void log(System.Logger.Level level, String message) {
    LOG.log(level, message);
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("this RabbitMQ backend is closed");
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    publisher.close();
    timer.shutdownNow();
    retrier.shutdownNow();
    for (Connection c : List.of(consumeConnection, publishConnection)) {
      try {
        c.close(5_000);
      } catch (IOException | RuntimeException e) {
        // the broker is gone already
      }
    }
    completer.shutdown();
    try {
      completer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
