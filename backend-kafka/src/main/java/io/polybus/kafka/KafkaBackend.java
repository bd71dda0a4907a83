package io.polybus.kafka;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PolybusException;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One {@code kafka://} connection: a shared idempotent producer, an admin client for topics and
 * group offsets, and one {@link KafkaMember} (its own {@code KafkaConsumer}) per subscriber.
 *
 * <h2>Mapping</h2>
 *
 * A Polybus message is a plain Kafka record, the id in a record header; {@link KafkaMapping} has
 * both directions.
 *
 * <h2>Publishing</h2>
 *
 * The future completes on the broker's acknowledgement ({@code acks=all}). Topics unknown to this
 * bus are created first with the admin client ({@code partitions}, {@code replication}); that step
 * runs on a small background executor so that {@code publish} itself never waits on the network
 * except when the producer's buffer is full (then {@code send} blocks at most {@code
 * publishTimeout}). Every publish completes within twice {@code publishTimeout} (topic creation,
 * then delivery with its retries), failing with {@link io.polybus.PolybusTimeoutException} or
 * {@link io.polybus.BrokerUnavailableException} when the broker is down.
 *
 * <p>Thread-safe, as {@link Backend} requires.
 */
final class KafkaBackend implements Backend {
  private static final System.Logger LOG = System.getLogger("io.polybus.kafka");
  private static final int MAX_HEADERS = 64;

  final KafkaSettings settings;
  private final Capabilities capabilities;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Admin admin;

  /** Publishes of each topic this bus published to, held back until the topic exists. */
  private final ConcurrentHashMap<String, TopicGate> gates = new ConcurrentHashMap<>();

  /** Topics this bus created or found; the future completes when the topic exists. */
  private final ConcurrentHashMap<String, CompletableFuture<Void>> topics =
      new ConcurrentHashMap<>();

  private final AtomicInteger keylessTurn = new AtomicInteger();
  private final Set<String> ensuredGroups = ConcurrentHashMap.newKeySet();

  /**
   * Runs the slow path of a publish (after topic creation), never the admin client's own thread.
   */
  private final ExecutorService slowPath;

  private volatile boolean closed;

  KafkaBackend(KafkaSettings settings) {
    this.settings = settings;
    this.capabilities =
        Capabilities.builder()
            .orderedByKey(true)
            .replay(true)
            .replayFromTimestamp(true)
            .replayFromOffset(true)
            .durable(true)
            .uncountedGiveBack(true)
            .nativeDelayedRetry(false)
            .mayDuplicate(false)
            .lagAccuracy(ConsumerLag.Accuracy.EXACT)
            .maxPayloadBytes(settings.maxPayload)
            .maxHeaders(MAX_HEADERS)
            .build();
    try {
      this.producer =
          new KafkaProducer<>(
              settings.producer(), new ByteArraySerializer(), new ByteArraySerializer());
    } catch (KafkaException e) {
      throw KafkaErrors.map("creating the Kafka producer for " + settings.options.redacted(), e);
    }
    try {
      this.admin = Admin.create(settings.admin());
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw KafkaErrors.map(
          "creating the Kafka admin client for " + settings.options.redacted(), e);
    }
    AtomicInteger n = new AtomicInteger();
    this.slowPath =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "polybus-kafka-publish-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  // ---------------------------------------------------------------- publishing

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    TopicGate gate = gates.get(topic);
    if (gate != null && gate.open) {
      return send(topic, messages);
    }
    if (gate == null) {
      gate = gates.computeIfAbsent(topic, TopicGate::new);
      TopicGate g = gate;
      ensureTopic(topic).whenCompleteAsync((v, err) -> g.release(err), slowPath);
    }
    CompletableFuture<List<PublishReceipt>> result = new CompletableFuture<>();
    if (!gate.enqueue(messages, result)) {
      return send(topic, messages); // opened in the meantime
    }
    return result;
  }

  /**
   * Publishes waiting for a topic to be created, kept in call order: they are sent in that order
   * once it exists, before any later publish takes the direct path, so creating a topic never
   * reorders a publisher's messages.
   */
  private final class TopicGate {
    final String topic;
    volatile boolean open;
    private final java.util.ArrayDeque<Object[]> waiting = new java.util.ArrayDeque<>();
    private boolean releasing;
    private Throwable failure;

    TopicGate(String topic) {
      this.topic = topic;
    }

    /** False when the gate is open and the caller sends directly. */
    synchronized boolean enqueue(
        List<Message> messages, CompletableFuture<List<PublishReceipt>> result) {
      if (open) {
        return false;
      }
      if (failure != null) {
        // Creation failed and this gate is gone from the map: fail like the publishes that waited
        // for it.
        result.completeExceptionally(KafkaErrors.map("creating topic " + topic, failure));
        return true;
      }
      waiting.add(new Object[] {messages, result});
      return true;
    }

    /**
     * Runs on the slow-path executor once creation finished: sends (or fails) the waiting publishes
     * in order.
     */
    @SuppressWarnings("unchecked")
    void release(Throwable err) {
      synchronized (this) {
        if (releasing) {
          return;
        }
        releasing = true;
      }
      while (true) {
        Object[] w;
        synchronized (this) {
          w = waiting.poll();
          if (w == null) {
            if (err == null) {
              open = true;
            } else {
              failure = err;
              gates.remove(topic, this); // the next publish tries to create the topic again
            }
            return;
          }
        }
        CompletableFuture<List<PublishReceipt>> result =
            (CompletableFuture<List<PublishReceipt>>) w[1];
        if (err != null) {
          result.completeExceptionally(KafkaErrors.map("creating topic " + topic, err));
        } else {
          send(topic, (List<Message>) w[0])
              .whenComplete(
                  (ok, e) -> {
                    if (e != null) {
                      result.completeExceptionally(e);
                    } else {
                      result.complete(ok);
                    }
                  });
        }
      }
    }
  }

  private CompletableFuture<List<PublishReceipt>> send(String topic, List<Message> messages) {
    int n = messages.size();
    CompletableFuture<List<PublishReceipt>> result = new CompletableFuture<>();
    if (n == 0) {
      result.complete(List.of());
      return result;
    }
    Receipts receipts = new Receipts(topic, n);
    AtomicInteger remaining = new AtomicInteger(n);
    Integer keylessPartition = null;
    for (int i = 0; i < n; i++) {
      Message m = messages.get(i);
      receipts.ids[i] = m.id();
      try {
        if (m.key() == null && keylessPartition == null) {
          keylessPartition = keylessPartition(topic);
        }
        producer.send(
            KafkaMapping.toRecord(topic, m.key() == null ? keylessPartition : null, m),
            new Confirmation(i, receipts, remaining, result));
      } catch (KafkaException | IllegalStateException e) {
        result.completeExceptionally(KafkaErrors.map("publishing " + m.id() + " to " + topic, e));
        break;
      }
    }
    return result;
  }

  /**
   * The partition of the keyless messages of one publish call: the next one in turn. Kafka's own
   * sticky partitioner fills one partition per batch, so a burst of small keyless messages would
   * land on one or two partitions and leave the other members of a group idle; turning per call
   * spreads the work and keeps each call's batch whole.
   */
  private Integer keylessPartition(String topic) {
    int count =
        producer.partitionsFor(topic).size(); // cached metadata after the first send to the topic
    return count <= 1 ? null : Math.floorMod(keylessTurn.getAndIncrement(), count);
  }

  /**
   * The receipts of one publish call, each built when it is read: the producer's I/O thread, which
   * runs every confirmation, only stores a partition and an offset (formatting the position there
   * cost it about a sixth of its time at full speed). Written before the call's future completes,
   * read only after; unmodifiable.
   */
  static final class Receipts extends java.util.AbstractList<PublishReceipt>
      implements java.util.RandomAccess {
    private final String topic;
    final String[] ids;
    final int[] partitions;
    final long[] offsets;

    Receipts(String topic, int n) {
      this.topic = topic;
      this.ids = new String[n];
      this.partitions = new int[n];
      this.offsets = new long[n];
    }

    @Override
    public PublishReceipt get(int index) {
      return new PublishReceipt(topic, ids[index], partitions[index] + "@" + offsets[index]);
    }

    @Override
    public int size() {
      return ids.length;
    }
  }

  /**
   * The broker's acknowledgement of one record of a publish call; the last one completes the call's
   * future.
   */
  private static final class Confirmation implements org.apache.kafka.clients.producer.Callback {
    private final int index;
    private final Receipts receipts;
    private final AtomicInteger remaining;
    private final CompletableFuture<List<PublishReceipt>> result;

    Confirmation(
        int index,
        Receipts receipts,
        AtomicInteger remaining,
        CompletableFuture<List<PublishReceipt>> result) {
      this.index = index;
      this.receipts = receipts;
      this.remaining = remaining;
      this.result = result;
    }

    @Override
    public void onCompletion(org.apache.kafka.clients.producer.RecordMetadata md, Exception ex) {
      if (ex != null) {
        result.completeExceptionally(
            KafkaErrors.map("publishing " + receipts.ids[index] + " to " + receipts.topic, ex));
        return;
      }
      receipts.partitions[index] = md.partition();
      receipts.offsets[index] = md.offset();
      // The decrement orders the writes above before the last callback completes the future (and so
      // before any
      // read of the receipts).
      if (remaining.decrementAndGet() == 0) {
        result.complete(receipts);
      }
    }
  }

  // ---------------------------------------------------------------- topics and groups

  /**
   * Creates the topic unless it exists; completes when it does. A failed attempt is forgotten, so
   * it is retried.
   */
  CompletableFuture<Void> ensureTopic(String topic) {
    CompletableFuture<Void> f =
        topics.computeIfAbsent(
            topic,
            t -> {
              NewTopic nt =
                  new NewTopic(t, settings.partitions, settings.replication)
                      .configs(settings.topicConfig());
              CompletableFuture<Void> created = new CompletableFuture<>();
              admin
                  .createTopics(List.of(nt))
                  .all()
                  .whenComplete(
                      (v, err) -> {
                        Throwable c = err == null ? null : KafkaErrors.unwrap(err);
                        if (c instanceof TopicExistsException) {
                          created.complete(null);
                        } else if (c != null) {
                          created.completeExceptionally(KafkaErrors.map("creating topic " + t, c));
                        } else {
                          try {
                            slowPath.execute(
                                () -> {
                                  try {
                                    awaitPartitionsReady(t);
                                    created.complete(null);
                                  } catch (RuntimeException e) {
                                    created.completeExceptionally(e);
                                  }
                                });
                          } catch (java.util.concurrent.RejectedExecutionException e) {
                            created.completeExceptionally(
                                new IllegalStateException("the bus is closed"));
                          }
                        }
                      });
              return created;
            });
    f.whenComplete(
        (v, err) -> {
          if (err != null) {
            topics.remove(topic, f);
          }
        });
    return f;
  }

  /**
   * Waits until the leader of every partition of a topic just created answers for it. The
   * controller confirms a creation before the brokers have loaded the new partitions; an idempotent
   * producer whose first batches to a partition race with that load was seen to send them out of
   * sequence and stall until they expired.
   */
  private void awaitPartitionsReady(String topic) {
    long deadline = System.nanoTime() + settings.publishTimeout.toNanos();
    while (true) {
      try {
        Map<String, TopicDescription> d =
            await(
                admin
                    .describeTopics(List.of(topic))
                    .allTopicNames()
                    .toCompletionStage()
                    .toCompletableFuture(),
                "describing topic " + topic);
        Map<TopicPartition, OffsetSpec> all = new HashMap<>();
        boolean leaders = true;
        for (var p : d.get(topic).partitions()) {
          leaders &= p.leader() != null && !p.leader().isEmpty();
          all.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        }
        if (leaders) {
          await(
              admin.listOffsets(all).all().toCompletionStage().toCompletableFuture(),
              "listing offsets of " + topic);
          return;
        }
      } catch (PolybusException e) {
        if (!e.isTransient()
            && !(KafkaErrors.unwrap(e.getCause()) instanceof UnknownTopicOrPartitionException)) {
          throw e;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new io.polybus.PolybusTimeoutException(
            "topic "
                + topic
                + " was created but its partitions had no "
                + "leader within "
                + settings.publishTimeout);
      }
      sleep(50);
    }
  }

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    if (ensuredGroups.contains(topic + '\u0000' + group)) {
      return;
    }
    await(ensureTopic(topic), "creating topic " + topic);
    long deadline = System.nanoTime() + settings.publishTimeout.toNanos();
    while (true) {
      try {
        initialOffsets(topic, group, startFrom);
        ensuredGroups.add(topic + '\u0000' + group);
        return;
      } catch (PolybusException e) {
        // Just after creation the topic's partitions may not be known to every broker yet.
        if (!(KafkaErrors.unwrap(e.getCause()) instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        sleep(100);
      }
    }
  }

  /**
   * Commits a start offset for each partition of {@code topic} that the group has none for: the end
   * (LATEST), the beginning (EARLIEST), the first record at or after an instant, or an offset
   * clamped to what the partition retains. From then on the group holds its place whether or not a
   * member is connected, so a message published after {@code subscribe} returned is never skipped
   * by a later offset reset.
   */
  private void initialOffsets(String topic, String group, StartFrom startFrom) {
    Map<String, TopicDescription> d =
        await(
            admin
                .describeTopics(List.of(topic))
                .allTopicNames()
                .toCompletionStage()
                .toCompletableFuture(),
            "describing topic " + topic);
    Map<TopicPartition, OffsetAndMetadata> committed =
        await(
            admin
                .listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .toCompletionStage()
                .toCompletableFuture(),
            "reading offsets of " + group);
    Set<TopicPartition> missing = new java.util.HashSet<>();
    d.get(topic)
        .partitions()
        .forEach(
            p -> {
              TopicPartition tp = new TopicPartition(topic, p.partition());
              if (committed.get(tp) == null) {
                missing.add(tp);
              }
            });
    if (missing.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> positions =
        startPositions(
            missing,
            startFrom,
            kind -> {
              OffsetSpec spec =
                  kind == StartFrom.Kind.EARLIEST
                      ? OffsetSpec.earliest()
                      : kind == StartFrom.Kind.LATEST
                          ? OffsetSpec.latest()
                          : OffsetSpec.forTimestamp(startFrom.timestampMillis());
              Map<TopicPartition, OffsetSpec> request = new HashMap<>();
              missing.forEach(tp -> request.put(tp, spec));
              Map<TopicPartition, Long> offsets = new HashMap<>();
              await(
                      admin.listOffsets(request).all().toCompletionStage().toCompletableFuture(),
                      "listing offsets of " + topic)
                  .forEach((tp, info) -> offsets.put(tp, info.offset()));
              return offsets;
            });
    Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
    positions.forEach((tp, offset) -> start.put(tp, new OffsetAndMetadata(offset, "")));
    try {
      await(
          admin
              .alterConsumerGroupOffsets(group, start)
              .all()
              .toCompletionStage()
              .toCompletableFuture(),
          "setting the start offsets of group " + group);
    } catch (PolybusException e) {
      Throwable c = KafkaErrors.unwrap(e.getCause());
      if (c instanceof GroupNotEmptyException || c instanceof UnknownMemberIdException) {
        // Members are active: the group exists and they place it themselves (KafkaMember commits
        // the position of
        // every partition it is assigned without an offset).
        return;
      }
      throw e;
    }
  }

  /**
   * One offset query over a set of partitions: the admin client's (no member yet) or the member's
   * consumer's.
   */
  interface OffsetLookup {
    /**
     * The beginning ({@code EARLIEST}), the end ({@code LATEST}) or the first record at or after
     * the start's instant ({@code TIMESTAMP}) of every partition; a negative or absent answer means
     * no such record.
     */
    Map<TopicPartition, Long> list(StartFrom.Kind kind);
  }

  /**
   * Where a new group starts in each of {@code partitions}. A timestamp with no record at or after
   * it starts at the end; an offset past the end starts at the end, one older than what is retained
   * at the oldest record retained (as Kafka's reset to an offset does).
   */
  static Map<TopicPartition, Long> startPositions(
      Set<TopicPartition> partitions, StartFrom startFrom, OffsetLookup lookup) {
    switch (startFrom.kind()) {
      case EARLIEST:
        return lookup.list(StartFrom.Kind.EARLIEST);
      case LATEST:
        return lookup.list(StartFrom.Kind.LATEST);
      case TIMESTAMP:
        {
          Map<TopicPartition, Long> at = lookup.list(StartFrom.Kind.TIMESTAMP);
          Map<TopicPartition, Long> result = new HashMap<>();
          Map<TopicPartition, Long> ends = null;
          for (TopicPartition tp : partitions) {
            Long offset = at.get(tp);
            if (offset == null || offset < 0) {
              if (ends == null) {
                ends = lookup.list(StartFrom.Kind.LATEST);
              }
              offset = ends.get(tp);
            }
            result.put(tp, offset);
          }
          return result;
        }
      case OFFSET:
        {
          Map<TopicPartition, Long> earliest = lookup.list(StartFrom.Kind.EARLIEST);
          Map<TopicPartition, Long> latest = lookup.list(StartFrom.Kind.LATEST);
          Map<TopicPartition, Long> result = new HashMap<>();
          for (TopicPartition tp : partitions) {
            result.put(
                tp, Math.max(earliest.get(tp), Math.min(latest.get(tp), startFrom.offset())));
          }
          return result;
        }
      default:
        throw new IllegalArgumentException("unknown start " + startFrom);
    }
  }

  /**
   * Places the group (see {@link #ensureGroup}) while the member joins it: the two are independent
   * and each takes several round trips to the broker (placing alone took 10 to 20 ms here, against
   * about 300 ms to read a backlog of a million records). Placing commits offsets only while the
   * group is empty; once the member has joined, the broker refuses that commit and the member
   * commits the position of every partition it is assigned without an offset itself ({@link
   * KafkaMember#onPartitionsAssigned}), before this returns. Either way the group holds its place
   * when {@code subscribe} returns.
   */
  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    if (ensuredGroups.contains(spec.topic() + '\u0000' + spec.group())) {
      return new KafkaMember(this, spec);
    }
    // The topic first: a consumer asking for the metadata of an absent topic may have the broker
    // create it with
    // the broker's defaults instead of this bus's partitions and settings.
    await(ensureTopic(spec.topic()), "creating topic " + spec.topic());
    CompletableFuture<Void> placed;
    try {
      placed =
          CompletableFuture.runAsync(
              () -> ensureGroup(spec.topic(), spec.group(), spec.startFrom()), slowPath);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IllegalStateException("the bus is closed");
    }
    KafkaMember member = new KafkaMember(this, spec);
    try {
      placed.get(2 * settings.publishTimeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      member.close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      Throwable c = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      throw c instanceof PolybusException
          ? (PolybusException) c
          : KafkaErrors.map("placing group " + spec.group() + " on " + spec.topic(), c);
    }
    return member;
  }

  // ---------------------------------------------------------------- lag

  /**
   * Per partition, the end offset minus where the group's stored state says it is: its committed
   * offset (or the oldest retained offset, when retention has passed it), less the offsets after it
   * that the commit's metadata marks acked ({@link CommitMetadata#countAcked}). Exact as of the
   * group's last commit: members commit every {@code commitInterval}, an ack behind an unsettled
   * record included (in the metadata), so a settle shows within about {@code commitInterval} plus
   * one poll.
   *
   * <p>A partition the group has no offset for counts from its beginning, or not at all while the
   * group has no offset on any partition of the topic (Polybus placed no group there, so a new
   * group would start at the end, as {@code LATEST} does). Polybus places a group on every
   * partition before {@code subscribe} returns, so the first case is only a partition added to the
   * topic later, until a member is assigned it and places it by its {@code startFrom}. A topic that
   * does not exist has lag 0 and no partitions (it is not created). Two round trips of the admin
   * client, each bounded so that the whole call takes at most {@code min(publishTimeout, 10 s)}.
   */
  @Override
  public ConsumerLag lag(String topic, String group) {
    long deadline = System.nanoTime() + lagTimeout().toNanos();
    var described =
        admin
            .describeTopics(
                List.of(topic), new DescribeTopicsOptions().timeoutMs(timeoutMs(deadline)))
            .allTopicNames();
    var groupOffsets =
        admin
            .listConsumerGroupOffsets(
                group, new ListConsumerGroupOffsetsOptions().timeoutMs(timeoutMs(deadline)))
            .partitionsToOffsetAndMetadata();
    Map<String, TopicDescription> d;
    try {
      d =
          awaitBy(
              described.toCompletionStage().toCompletableFuture(), deadline, "describing " + topic);
    } catch (PolybusException e) {
      if (KafkaErrors.unwrap(e.getCause()) instanceof UnknownTopicOrPartitionException) {
        return ConsumerLag.ofPartitions(
            topic, group, Map.of(), null, ConsumerLag.Accuracy.EXACT, java.time.Instant.now());
      }
      throw e;
    }
    Map<TopicPartition, OffsetAndMetadata> committed =
        awaitBy(
            groupOffsets.toCompletionStage().toCompletableFuture(),
            deadline,
            "reading the offsets of group " + group);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    List<TopicPartition> partitions = new java.util.ArrayList<>();
    for (var p : d.get(topic).partitions()) {
      TopicPartition tp = new TopicPartition(topic, p.partition());
      partitions.add(tp);
      latest.put(tp, OffsetSpec.latest());
      earliest.put(tp, OffsetSpec.earliest());
    }
    partitions.sort(java.util.Comparator.comparingInt(TopicPartition::partition));
    var ends = admin.listOffsets(latest, new ListOffsetsOptions().timeoutMs(timeoutMs(deadline)));
    var starts =
        admin.listOffsets(earliest, new ListOffsetsOptions().timeoutMs(timeoutMs(deadline)));
    Map<TopicPartition, ListOffsetsResultInfo> end =
        awaitBy(
            ends.all().toCompletionStage().toCompletableFuture(),
            deadline,
            "listing the end offsets of " + topic);
    Map<TopicPartition, ListOffsetsResultInfo> start =
        awaitBy(
            starts.all().toCompletionStage().toCompletableFuture(),
            deadline,
            "listing the start offsets of " + topic);
    java.time.Instant at = java.time.Instant.now();
    boolean placed = partitions.stream().anyMatch(tp -> committed.get(tp) != null);
    Map<String, Long> shares = new java.util.LinkedHashMap<>();
    for (TopicPartition tp : partitions) {
      long e = end.get(tp).offset();
      long retained = start.get(tp).offset();
      OffsetAndMetadata om = committed.get(tp);
      long n;
      if (om == null) {
        n = placed ? e - retained : 0;
      } else {
        long from = Math.max(om.offset(), retained);
        n = e - from - CommitMetadata.countAcked(om.offset(), om.metadata(), from, e);
      }
      shares.put(Integer.toString(tp.partition()), Math.max(0, n));
    }
    return ConsumerLag.ofPartitions(topic, group, shares, null, ConsumerLag.Accuracy.EXACT, at);
  }

  /** The bound of one {@link #lag} call, as {@link #health()}'s. */
  private Duration lagTimeout() {
    return Duration.ofMillis(Math.min(settings.publishTimeout.toMillis(), 10_000));
  }

  private static int timeoutMs(long deadline) {
    return (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
  }

  /**
   * Waits for an admin call made with {@code timeoutMs(deadline)}: it fails on its own by then; the
   * extra second only covers its failing.
   */
  private <T> T awaitBy(CompletableFuture<T> f, long deadline, String what) {
    try {
      return f.get(timeoutMs(deadline) + 1000L, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw KafkaErrors.map(what + " was interrupted", e);
    } catch (Exception e) {
      throw KafkaErrors.map(what + " at " + settings.bootstrap, e);
    }
  }

  /**
   * Deletes the Kafka topic of that exact name ({@code Admin.deleteTopics} names topics, it matches
   * no pattern), with its records; the broker then drops every group's committed offsets for its
   * partitions, so the groups' state on it goes too (the consumer groups themselves are shared by
   * name across topics and are left: a group with no offsets and no members expires on its own
   * after the broker's {@code offsets.retention.minutes}). A topic already gone is fine. Forgets
   * that this bus created the topic, so a later publish or subscribe creates it again. Bounded by
   * {@code min(publishTimeout, 10 s)}.
   */
  @Override
  public boolean deleteTopic(String topic) {
    long deadline = System.nanoTime() + lagTimeout().toNanos();
    try {
      awaitBy(
          admin
              .deleteTopics(
                  List.of(topic),
                  new org.apache.kafka.clients.admin.DeleteTopicsOptions()
                      .timeoutMs(timeoutMs(deadline)))
              .all()
              .toCompletionStage()
              .toCompletableFuture(),
          deadline,
          "deleting topic " + topic);
    } catch (PolybusException e) {
      if (!(KafkaErrors.unwrap(e.getCause()) instanceof UnknownTopicOrPartitionException)) {
        throw e;
      }
    } finally {
      topics.remove(topic);
      gates.remove(topic);
      ensuredGroups.removeIf(k -> k.startsWith(topic + '\u0000'));
    }
    return true;
  }

  // ---------------------------------------------------------------- health and close

  @Override
  public Health health() {
    if (closed) {
      return Health.down("the bus is closed");
    }
    try {
      String id =
          admin
              .describeCluster()
              .clusterId()
              .get(Math.min(settings.publishTimeout.toMillis(), 10_000), TimeUnit.MILLISECONDS);
      return Health.up("Kafka cluster " + id + " at " + settings.bootstrap);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Health.down("interrupted while asking " + settings.bootstrap + " for its cluster id");
    } catch (Exception e) {
      return Health.down(
          "Kafka at " + settings.bootstrap + " did not answer: " + KafkaErrors.unwrap(e));
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    slowPath.shutdown();
    try {
      producer.close(settings.publishTimeout);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the Kafka producer failed", e);
    }
    try {
      admin.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the Kafka admin client failed", e);
    }
  }

  // ---------------------------------------------------------------- helpers

  private <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get(settings.publishTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw KafkaErrors.map(what + " was interrupted", e);
    } catch (Exception e) {
      throw KafkaErrors.map(what + " at " + settings.bootstrap, e);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "KafkaBackend{" + settings.options.redacted() + "}";
  }
}
