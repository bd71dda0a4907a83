package io.polybus.sqs;

import io.polybus.Capabilities;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.NonTransientPolybusException;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import io.polybus.PolybusTimeoutException;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.PortableNames;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueUrlRequest;
import software.amazon.awssdk.services.sqs.model.ListQueuesRequest;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * One bus on one SQS endpoint. Thread-safe.
 *
 * <p>Mapping: each (topic, group) pair is a queue ({@link SqsNames}); publishing sends every
 * message to every group queue of its topic ({@link QueueDirectory}), so each group receives every
 * message without SNS. A message published while a topic has no group is not kept anywhere.
 *
 * <p>Threads: {@code publishers} threads send {@code SendMessageBatch} calls (10 entries at most,
 * one per chunk of a publish and queue, chunks of one publish in parallel); one {@link Settler}
 * thread sends acks ({@code DeleteMessageBatch}), releases and visibility extensions. Consumers
 * receive on the runtime's poll thread. Every call is bounded by {@code timeout} (plus the
 * long-poll {@code wait}, one client setting for all calls), and a call not started within {@code
 * timeout} of its publish is not sent ({@link PolybusTimeoutException}), so a publish completes or
 * fails within {@code 2 × timeout + wait} (21 s by default).
 */
final class SqsBackend implements Backend {
  private static final System.Logger LOG = System.getLogger("io.polybus.sqs");

  /** SQS keeps a message at most 14 days; Polybus asks for the most. */
  static final int RETENTION_SECONDS = 14 * 24 * 3600;

  private static final int SEND_ROUNDS = 3;

  final SqsSettings settings;
  final SqsClient sqs;
  final SqsNames names;
  final Settler settler;
  private final QueueDirectory directory;
  private final Capabilities capabilities;
  private final ThreadPoolExecutor senders;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** (topic, group) queue name -> URL, for queues this bus created or looked up. */
  private final Map<String, String> queueUrls = new ConcurrentHashMap<>();

  private final SecureRandom random = new SecureRandom();

  /** FIFO mode: per topic, the last publish queued, which the next one waits for. */
  private final Map<String, CompletableFuture<?>> fifoTails = new HashMap<>();

  SqsBackend(SqsSettings settings, SqsClient sqs) {
    this.settings = settings;
    this.sqs = sqs;
    this.names = settings.names();
    this.directory = new QueueDirectory(sqs, names, settings.refresh().toNanos());
    this.capabilities =
        Capabilities.builder()
            .orderedByKey(settings.fifo())
            .replay(false)
            .durable(true)
            .nativeDelayedRetry(true)
            // Standard queues are at least once by design (SQS may hand out a stored copy twice);
            // FIFO queues are not.
            .mayDuplicate(!settings.fifo())
            // A closing member re-sends what no handler started as a copy carrying its count
            // (SqsConsumer.close); in FIFO
            // mode the copy would queue behind later messages of its key, so there it counts.
            .uncountedGiveBack(!settings.fifo())
            .maxPayloadBytes(settings.maxPayloadBytes())
            .maxHeaders(64)
            .build();
    AtomicInteger n = new AtomicInteger();
    this.senders =
        new ThreadPoolExecutor(
            settings.publishers(),
            settings.publishers(),
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "polybus-sqs-sender-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    senders.allowCoreThreadTimeOut(true);
    this.settler = new Settler(this);
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  ExecutorService senders() {
    return senders;
  }

  // ---------------------------------------------------------------- publishing

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    if (closed.get()) {
      return CompletableFuture.failedFuture(new IllegalStateException("the sqs backend is closed"));
    }
    List<SqsLayout.Encoded> encoded = new ArrayList<>(messages.size());
    for (Message m : messages) {
      SqsLayout.Encoded e = SqsLayout.encode(m);
      if (e.size() > settings.maxMessageSize()) {
        // Checked before anything is sent, so nothing of the batch is published.
        return CompletableFuture.failedFuture(
            new PayloadTooLargeException(
                "message "
                    + m.id()
                    + " takes "
                    + e.size()
                    + " bytes as an SQS message (body and attributes); SQS accepts "
                    + settings.maxMessageSize()));
      }
      encoded.add(e);
    }
    // One token per publish call: SQS's deduplication drops the SDK's own retries of a call, never
    // a later
    // deliberate publish of the same message (a redrive, a second dead letter of a redriven
    // message).
    String token = settings.fifo() ? HexFormat.of().formatHex(nextBytes()) : null;
    CompletableFuture<List<PublishReceipt>> result = new CompletableFuture<>();
    // A call not started within `timeout` of the publish is not sent at all, so that a publish
    // queued behind others
    // while the endpoint is down still fails within about two timeouts.
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    try {
      if (settings.fifo()) {
        // A FIFO queue keeps the order in which it received messages: the publishes of a topic are
        // sent one after
        // the other, and the chunks of one publish in order.
        synchronized (fifoTails) {
          CompletableFuture<?> tail =
              fifoTails.getOrDefault(topic, CompletableFuture.completedFuture(null));
          CompletableFuture<Void> next =
              tail.handleAsync(
                  (x, e) -> {
                    sendInOrder(topic, messages, encoded, token, deadline, result);
                    return null;
                  },
                  senders);
          fifoTails.put(topic, next);
          next.whenComplete(
              (x, e) -> {
                synchronized (fifoTails) {
                  fifoTails.remove(topic, next);
                }
              });
        }
      } else {
        senders.execute(() -> fanOut(topic, messages, encoded, token, deadline, result));
      }
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new IllegalStateException("the sqs backend is closed"));
    }
    return result;
  }

  /** FIFO mode: every chunk to every queue, in order, on this thread. */
  private void sendInOrder(
      String topic,
      List<Message> messages,
      List<SqsLayout.Encoded> encoded,
      String token,
      long deadline,
      CompletableFuture<List<PublishReceipt>> result) {
    try {
      List<String> queues = directory.groupQueues(topic);
      String[] positions = new String[messages.size()];
      List<int[]> chunks = chunks(encoded);
      boolean first = true;
      for (String queue : queues) {
        for (int[] c : chunks) {
          sendChunk(
              topic,
              queue,
              messages,
              encoded,
              c[0],
              c[1],
              token,
              deadline,
              first ? positions : null);
        }
        first = false;
      }
      result.complete(receipts(topic, messages, positions));
    } catch (RuntimeException e) {
      result.completeExceptionally(SqsErrors.map(e, "publish to '" + topic + "'", settings));
    }
  }

  private static List<PublishReceipt> receipts(
      String topic, List<Message> messages, String[] positions) {
    List<PublishReceipt> receipts = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      receipts.add(
          new PublishReceipt(
              topic, messages.get(i).id(), positions[i] == null ? "" : positions[i]));
    }
    return receipts;
  }

  private byte[] nextBytes() {
    byte[] b = new byte[8];
    random.nextBytes(b);
    return b;
  }

  /**
   * Runs on a sender: finds the group queues, then sends every chunk to every queue, chunks in
   * parallel.
   */
  private void fanOut(
      String topic,
      List<Message> messages,
      List<SqsLayout.Encoded> encoded,
      String token,
      long deadline,
      CompletableFuture<List<PublishReceipt>> result) {
    List<String> queues;
    try {
      queues = directory.groupQueues(topic);
    } catch (RuntimeException e) {
      result.completeExceptionally(
          SqsErrors.map(e, "list the group queues of '" + topic + "'", settings));
      return;
    }
    String[] positions = new String[messages.size()];
    List<int[]> chunks = chunks(encoded);
    List<CompletableFuture<Void>> parts = new ArrayList<>(chunks.size() * queues.size());
    boolean first = true;
    for (String queue : queues) {
      for (int[] c : chunks) {
        boolean record = first;
        Runnable send =
            () ->
                sendChunk(
                    topic,
                    queue,
                    messages,
                    encoded,
                    c[0],
                    c[1],
                    token,
                    deadline,
                    record ? positions : null);
        if (parts.isEmpty() && chunks.size() * queues.size() == 1) {
          // A single call: send it from this thread rather than hopping to another.
          try {
            send.run();
            parts.add(CompletableFuture.completedFuture(null));
          } catch (RuntimeException e) {
            parts.add(CompletableFuture.failedFuture(e));
          }
        } else {
          try {
            parts.add(CompletableFuture.runAsync(send, senders));
          } catch (RejectedExecutionException e) {
            parts.add(
                CompletableFuture.failedFuture(
                    new IllegalStateException("the sqs backend is closed")));
          }
        }
      }
      first = false;
    }
    CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]))
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                result.completeExceptionally(
                    SqsErrors.map(err, "publish to '" + topic + "'", settings));
                return;
              }
              result.complete(receipts(topic, messages, positions));
            });
  }

  /**
   * Splits into runs of at most 10 messages whose sizes add up to at most one message's limit
   * (SQS's batch rule).
   */
  List<int[]> chunks(List<SqsLayout.Encoded> encoded) {
    List<int[]> chunks = new ArrayList<>();
    int start = 0;
    int bytes = 0;
    for (int i = 0; i < encoded.size(); i++) {
      int size = encoded.get(i).size();
      if (i - start == 10 || (i > start && bytes + size > settings.maxMessageSize())) {
        chunks.add(new int[] {start, i});
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    chunks.add(new int[] {start, encoded.size()});
    return chunks;
  }

  private void sendChunk(
      String topic,
      String queue,
      List<Message> messages,
      List<SqsLayout.Encoded> encoded,
      int from,
      int to,
      String token,
      long deadline,
      String[] positions) {
    // In order: a FIFO queue takes the entries of one batch in the order they are listed.
    Map<String, SendMessageBatchRequestEntry> pending = new java.util.LinkedHashMap<>();
    for (int i = from; i < to; i++) {
      Message m = messages.get(i);
      SqsLayout.Encoded e = encoded.get(i);
      SendMessageBatchRequestEntry.Builder b =
          SendMessageBatchRequestEntry.builder()
              .id(Integer.toString(i))
              .messageBody(e.body())
              .messageAttributes(e.attributes());
      if (settings.fifo()) {
        b.messageGroupId(groupId(m))
            .messageDeduplicationId(SqsNames.sha256Hex(m.id()).substring(0, 48) + "-" + token);
      }
      pending.put(Integer.toString(i), b.build());
    }
    for (int round = 1; !pending.isEmpty(); round++) {
      if (System.nanoTime() - deadline > 0) {
        throw new PolybusTimeoutException(
            "publish to '"
                + topic
                + "' not sent within "
                + settings.timeout()
                + " ("
                + settings.where()
                + ")");
      }
      SendMessageBatchResponse r;
      try {
        r = sqs.sendMessageBatch(b -> b.queueUrl(queue).entries(pending.values()));
      } catch (QueueDoesNotExistException e) {
        // The group was deleted since the topic was listed: it no longer receives anything.
        directory.forget(topic);
        LOG.log(
            System.Logger.Level.DEBUG,
            () -> "queue " + queue + " of topic " + topic + " is gone; skipped");
        return;
      }
      for (SendMessageBatchResultEntry ok : r.successful()) {
        pending.remove(ok.id());
        if (positions != null) {
          positions[Integer.parseInt(ok.id())] = ok.messageId();
        }
      }
      for (BatchResultErrorEntry failed : r.failed()) {
        if (failed.senderFault() || round >= SEND_ROUNDS) {
          throw new NonTransientPolybusException(
              "SQS refused message "
                  + messages.get(Integer.parseInt(failed.id())).id()
                  + " on "
                  + QueueDirectory.queueName(queue)
                  + ": "
                  + failed.code()
                  + " "
                  + failed.message());
        }
      }
    }
  }

  /**
   * The FIFO message group: the key, so SQS hands out one key's messages one at a time and in
   * order; a keyless message is its own group (the id), so keyless messages are never held back by
   * one another. Values SQS does not accept as a group id (over 128 characters, or other than ASCII
   * letters, digits and punctuation) are replaced by {@code h-} and their SHA-256.
   */
  static String groupId(Message m) {
    String g = m.key() != null ? m.key() : m.id();
    if (g.length() <= 128 && g.chars().allMatch(c -> c > 32 && c < 127)) {
      return g;
    }
    return "h-" + SqsNames.sha256Hex(g);
  }

  // ---------------------------------------------------------------- groups and consumers

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    queueUrl(topic, group, true);
  }

  /** The URL of a group's queue, created when missing (always with the same attributes). */
  String queueUrl(String topic, String group, boolean refresh) {
    String name = names.queue(topic, group);
    String url = refresh ? null : queueUrls.get(name);
    if (url != null) {
      return url;
    }
    try {
      try {
        url = sqs.getQueueUrl(GetQueueUrlRequest.builder().queueName(name).build()).queueUrl();
      } catch (QueueDoesNotExistException e) {
        Map<QueueAttributeName, String> attributes = new HashMap<>();
        attributes.put(
            QueueAttributeName.MESSAGE_RETENTION_PERIOD, Integer.toString(RETENTION_SECONDS));
        attributes.put(
            QueueAttributeName.MAXIMUM_MESSAGE_SIZE, Integer.toString(settings.maxMessageSize()));
        if (settings.fifo()) {
          attributes.put(QueueAttributeName.FIFO_QUEUE, "true");
        }
        url =
            sqs.createQueue(
                    CreateQueueRequest.builder().queueName(name).attributes(attributes).build())
                .queueUrl();
      }
    } catch (RuntimeException e) {
      throw SqsErrors.map(
          e, "create the queue " + name + " of group '" + group + "' on '" + topic + "'", settings);
    }
    if (settings.maxReceiveCount() > 0 && !group.equals(Polybus.DEAD_LETTER_GROUP)) {
      setRedrivePolicy(topic, group, url);
    }
    queueUrls.put(name, url);
    directory.added(topic, url);
    return url;
  }

  /**
   * The safety net: SQS moves a message received {@code maxReceiveCount} times to the {@code dlq}
   * group queue of the default dead-letter topic ({@link PortableNames#deadLetterTopic}, the
   * runtime's own rule; created here when missing). Set again on every subscribe (the same value
   * each time).
   */
  private void setRedrivePolicy(String topic, String group, String url) {
    String dlqTopic = PortableNames.deadLetterTopic(topic, group);
    try {
      String target = queueUrl(dlqTopic, Polybus.DEAD_LETTER_GROUP, false);
      String arn =
          sqs.getQueueAttributes(
                  b -> b.queueUrl(target).attributeNames(QueueAttributeName.QUEUE_ARN))
              .attributes()
              .get(QueueAttributeName.QUEUE_ARN);
      sqs.setQueueAttributes(
          b ->
              b.queueUrl(url)
                  .attributes(
                      Map.of(
                          QueueAttributeName.REDRIVE_POLICY,
                          "{\"deadLetterTargetArn\":\""
                              + arn
                              + "\",\"maxReceiveCount\":\""
                              + settings.maxReceiveCount()
                              + "\"}")));
    } catch (RuntimeException e) {
      throw SqsErrors.map(
          e, "set the RedrivePolicy of group '" + group + "' on '" + topic + "'", settings);
    }
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    String url = queueUrl(spec.topic(), spec.group(), true);
    return new SqsConsumer(this, spec, url);
  }

  @Override
  public Health health() {
    if (closed.get()) {
      return Health.down("sqs " + settings.where() + ": this backend is closed");
    }
    try {
      sqs.listQueues(
          ListQueuesRequest.builder().queueNamePrefix(settings.prefix()).maxResults(1).build());
      return Health.up("sqs " + settings.where() + " answered ListQueues");
    } catch (RuntimeException e) {
      return Health.down("sqs " + settings.where() + " unreachable: " + e.getMessage());
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    settler.close();
    senders.shutdown();
    try {
      if (!senders.awaitTermination(settings.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
        senders.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      senders.shutdownNow();
    }
    sqs.close();
  }
}
