package io.polybus.sqs;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.NonTransientPolybusException;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.TransientPolybusException;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.Messages;
import io.polybus.spi.PortableNames;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
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
 * <p>Publishing: {@link Outbox} holds what waits (at most {@link #MAX_WAITING_MESSAGES} messages,
 * {@link #MAX_WAITING_BYTES} bytes: beyond, a publish fails at once with {@link
 * io.polybus.BackPressureException}) and coalesces the messages of concurrent publishes of a topic
 * into {@code SendMessageBatch} calls of up to 10, at most {@code publishers} calls in flight (in
 * FIFO mode one per message group at a time, so a key keeps its publish order). Each call is
 * bounded by {@code timeout} plus the long-poll {@code wait} (one client setting for all calls),
 * counted from when it is sent, never from when its publish was queued.
 *
 * <p>Threads: {@code publishers} threads send the outbox's calls; one {@link Settler} thread sends
 * acks ({@code DeleteMessageBatch}), releases and visibility extensions, its calls of one round in
 * parallel on the same threads. Consumers receive on the runtime's poll thread.
 */
final class SqsBackend implements Backend {
  private static final System.Logger LOG = System.getLogger("io.polybus.sqs");

  /** SQS keeps a message at most 14 days; Polybus asks for the most. */
  static final int RETENTION_SECONDS = 14 * 24 * 3600;

  private static final int SEND_ROUNDS = 3;

  /** The outbox's bound: messages waiting to be sent, not yet in a call. */
  static final int MAX_WAITING_MESSAGES = 10_000;

  /** The outbox's bound: bytes (encoded size) of the messages waiting to be sent. */
  static final long MAX_WAITING_BYTES = 64L * 1024 * 1024;

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

  /** Publishes waiting to be sent, and the batches they become. */
  private final Outbox outbox;

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
            // SQS's counts are approximate (they may trail the queue for about a minute).
            .lagAccuracy(ConsumerLag.Accuracy.APPROXIMATE)
            .maxPayloadBytes(settings.maxPayloadBytes())
            .maxHeaders(64)
            // FIFO queues take a delay per queue only, not per message.
            .maxDeliveryDelay(settings.fifo() ? Duration.ZERO : MAX_DELIVERY_DELAY)
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
    this.outbox =
        new Outbox(
            settings.fifo(),
            settings.publishers(),
            settings.maxMessageSize(),
            MAX_WAITING_MESSAGES,
            MAX_WAITING_BYTES,
            senders,
            this::sendBatch,
            settings.where());
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

  /** SQS's longest {@code DelaySeconds}; the runtime refuses longer delays before they get here. */
  static final Duration MAX_DELIVERY_DELAY = Duration.ofMinutes(15);

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    if (closed.get()) {
      return CompletableFuture.failedFuture(new IllegalStateException("the sqs backend is closed"));
    }
    Outbox.Publish publish = new Outbox.Publish(topic, messages);
    // One token per publish call: SQS's deduplication drops the SDK's own retries of a call, never
    // a later deliberate publish of the same message (a redrive, a second dead letter of a
    // redriven message).
    String token = settings.fifo() ? HexFormat.of().formatHex(nextBytes()) : null;
    List<Outbox.Entry> entries = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
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
      entries.add(
          settings.fifo()
              ? new Outbox.Entry(
                  publish,
                  i,
                  groupId(m),
                  SqsNames.sha256Hex(m.id()).substring(0, 48) + "-" + token,
                  e)
              : new Outbox.Entry(publish, i, null, null, e));
    }
    return outbox.offer(publish, entries);
  }

  private byte[] nextBytes() {
    byte[] b = new byte[8];
    random.nextBytes(b);
    return b;
  }

  /**
   * The outbox's sender: one batch of a topic to every group queue of it, one queue after the
   * other; each call bounded by the client's {@code timeout} (plus {@code wait}), counted from when
   * it is sent.
   */
  private void sendBatch(String topic, List<Outbox.Entry> batch) {
    List<String> queues;
    try {
      queues = directory.groupQueues(topic);
    } catch (RuntimeException e) {
      throw SqsErrors.map(e, "list the group queues of '" + topic + "'", settings);
    }
    boolean first = true;
    for (String queue : queues) {
      sendBatch(topic, queue, batch, first);
      first = false;
    }
  }

  private void sendBatch(String topic, String queue, List<Outbox.Entry> batch, boolean record) {
    // In order: a FIFO queue takes the entries of one batch in the order they are listed.
    Map<String, Outbox.Entry> pending = new LinkedHashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      if (batch.get(i).failure == null) {
        pending.put(Integer.toString(i), batch.get(i));
      }
    }
    for (int round = 1; !pending.isEmpty(); round++) {
      List<SendMessageBatchRequestEntry> request = new ArrayList<>(pending.size());
      for (Map.Entry<String, Outbox.Entry> p : pending.entrySet()) {
        Outbox.Entry e = p.getValue();
        SendMessageBatchRequestEntry.Builder b =
            SendMessageBatchRequestEntry.builder()
                .id(p.getKey())
                .messageBody(e.encoded.body())
                .messageAttributes(e.encoded.attributes());
        if (e.group != null) {
          b.messageGroupId(e.group).messageDeduplicationId(e.deduplicationId);
        }
        // Counted from now, when it is sent (a publish may have queued a while), in whole seconds
        // rounded up, so that it is never early.
        long delay =
            Messages.delayMillis(e.publish.messages.get(e.index), System.currentTimeMillis());
        if (delay > 0) {
          b.delaySeconds((int) Math.min(MAX_DELIVERY_DELAY.toSeconds(), (delay + 999) / 1000));
        }
        request.add(b.build());
      }
      SendMessageBatchResponse r;
      try {
        r = sqs.sendMessageBatch(b -> b.queueUrl(queue).entries(request));
      } catch (QueueDoesNotExistException e) {
        // The group was deleted since the topic was listed: it no longer receives anything.
        directory.forget(topic);
        LOG.log(
            System.Logger.Level.DEBUG,
            () -> "queue " + queue + " of topic " + topic + " is gone; skipped");
        return;
      } catch (RuntimeException e) {
        throw SqsErrors.map(e, "publish to '" + topic + "'", settings);
      }
      for (SendMessageBatchResultEntry ok : r.successful()) {
        Outbox.Entry e = pending.remove(ok.id());
        if (e != null && record) {
          e.position = ok.messageId();
        }
      }
      for (BatchResultErrorEntry failed : r.failed()) {
        Outbox.Entry e = pending.get(failed.id());
        if (e == null) {
          continue;
        }
        // FIFO: sent again later, it would land behind later messages of its key that SQS took
        // from this batch; so it fails (and the outbox fails what waits of its key).
        if (failed.senderFault() || round >= SEND_ROUNDS || settings.fifo()) {
          pending.remove(failed.id());
          String what =
              "SQS refused message "
                  + e.message().id()
                  + " on "
                  + QueueDirectory.queueName(queue)
                  + ": "
                  + failed.code()
                  + " "
                  + failed.message();
          e.failure =
              failed.senderFault()
                  ? new NonTransientPolybusException(what)
                  : new TransientPolybusException(what);
        }
      }
    }
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

  /**
   * Deletes every queue of {@code topic}: each group queue, standard and FIFO (both variants of the
   * name, whichever mode made them), found with {@code ListQueues} by the topic's exact name prefix
   * {@code <prefix><topic part>__} ({@code .} is escaped in a part, so topic {@code a.b} lists
   * under {@code a_db__} and never under {@code a__}). For a reply topic ({@code
   * polybus.replies.*}, whose group never dead-letters) the safety-net queue each of its groups got
   * ({@code dlq} group of {@code <topic>.<group>.dlq}, see {@link #setRedrivePolicy}) goes too; for
   * any other topic that dead-letter topic is left, since it may hold dead letters. A queue already
   * gone is fine. SQS may list a queue for up to a minute after its deletion; a publish of this bus
   * to the topic sees none from now on.
   */
  @Override
  public boolean deleteTopic(String topic) {
    boolean reply = topic.startsWith(io.polybus.spi.PortableNames.REPLY_TOPIC_PREFIX);
    List<String> doomed = new ArrayList<>();
    for (boolean fifo : new boolean[] {false, true}) {
      SqsNames n = new SqsNames(settings.prefix(), fifo);
      String prefix = n.topicPrefix(topic);
      String token = null;
      try {
        do {
          var r =
              sqs.listQueues(
                  ListQueuesRequest.builder()
                      .queueNamePrefix(prefix)
                      .maxResults(1000)
                      .nextToken(token)
                      .build());
          for (String url : r.queueUrls()) {
            String name = QueueDirectory.queueName(url);
            if (n.isGroupQueue(prefix, name)) {
              doomed.add(url);
            }
          }
          token = r.nextToken();
        } while (token != null && !token.isEmpty());
      } catch (RuntimeException e) {
        throw SqsErrors.map(e, "list the queues of '" + topic + "'", settings);
      }
    }
    if (reply) {
      // The groups' names are escaped in the queue names; the runtime's reply group is the one
      // that matters, and its safety net is found by the same naming rule as setRedrivePolicy's.
      for (String group : List.of("requester")) {
        for (boolean fifo : new boolean[] {false, true}) {
          String dlq =
              new SqsNames(settings.prefix(), fifo)
                  .queue(PortableNames.deadLetterTopic(topic, group), Polybus.DEAD_LETTER_GROUP);
          try {
            doomed.add(
                sqs.getQueueUrl(GetQueueUrlRequest.builder().queueName(dlq).build()).queueUrl());
          } catch (QueueDoesNotExistException e) {
            // never made (maxReceiveCount=0) or deleted already
          } catch (RuntimeException e) {
            throw SqsErrors.map(e, "look up queue " + dlq, settings);
          }
        }
      }
    }
    for (String url : doomed) {
      try {
        sqs.deleteQueue(b -> b.queueUrl(url));
      } catch (QueueDoesNotExistException e) {
        // gone already
      } catch (RuntimeException e) {
        throw SqsErrors.map(e, "delete queue " + url, settings);
      }
      queueUrls.values().removeIf(url::equals);
    }
    directory.forget(topic);
    return true;
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    String url = queueUrl(spec.topic(), spec.group(), true);
    return new SqsConsumer(this, spec, url);
  }

  /**
   * The group queue's {@code ApproximateNumberOfMessages} (waiting) + {@code
   * ApproximateNumberOfMessagesNotVisible} (received and not deleted: in flight, or waiting for a
   * delayed retry, which is a visibility timeout) + {@code ApproximateNumberOfMessagesDelayed}: one
   * {@code GetQueueAttributes} call (plus a {@code GetQueueUrl} for a queue this bus has not used).
   * A group without a queue lags by 0: nothing is kept for it. Never creates the queue.
   */
  @Override
  public ConsumerLag lag(String topic, String group) {
    String name = names.queue(topic, group);
    String what = "read the lag of group '" + group + "' on '" + topic + "' (queue " + name + ")";
    Map<QueueAttributeName, String> attributes;
    try {
      String known = queueUrls.get(name);
      String url =
          known != null
              ? known
              : sqs.getQueueUrl(GetQueueUrlRequest.builder().queueName(name).build()).queueUrl();
      attributes =
          sqs.getQueueAttributes(
                  b ->
                      b.queueUrl(url)
                          .attributeNames(
                              QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                              QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
                              QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED))
              .attributes();
    } catch (RuntimeException e) {
      if (SqsErrors.isQueueMissing(e)) {
        return ConsumerLag.of(
            topic, group, 0, null, ConsumerLag.Accuracy.APPROXIMATE, Instant.now());
      }
      throw SqsErrors.map(e, what, settings);
    }
    long total =
        count(attributes, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)
            + count(attributes, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)
            + count(attributes, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED);
    return ConsumerLag.of(
        topic, group, total, null, ConsumerLag.Accuracy.APPROXIMATE, Instant.now());
  }

  private static long count(Map<QueueAttributeName, String> attributes, QueueAttributeName name) {
    // An endpoint that does not keep a count (ElasticMQ before delayed messages) leaves it out.
    String v = attributes.get(name);
    return v == null ? 0 : Math.max(0, Long.parseLong(v.trim()));
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
    // What was published before close is sent (or fails) first; then the settler's last acks.
    outbox.close(System.nanoTime() + settings.timeout().toNanos());
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
