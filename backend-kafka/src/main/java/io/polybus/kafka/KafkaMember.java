package io.polybus.kafka;

import io.polybus.Message;
import io.polybus.StartFrom;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One group member: a {@code KafkaConsumer} in the Kafka consumer group of the same name, with per-record leases on
 * top of Kafka's per-partition offsets.
 *
 * <h2>Leases on a log</h2>
 * Kafka only remembers "everything before offset O of a partition is done". The runtime acks records out of order
 * (records of other keys finish first, a failing record waits for its retry), so each assigned partition keeps the
 * records it handed out in offset order ({@link PartitionState#records}); an acked head is dropped, and the
 * committed offset is the first record not acked yet (when all are, the first not handed out). What the offset
 * cannot say (acked records after it, delivery counts of records handed out but not settled) goes into the commit's
 * metadata string ({@link CommitMetadata}), so a member that takes the partition over skips the acked ones and
 * continues the attempt counts.
 *
 * <h2>Flow</h2>
 * Records of different keys in one partition are handed out together and run in parallel on the runtime's threads;
 * the runtime keeps one key in order. While records fetched from Kafka wait here for room in the runtime, every
 * partition is paused, and {@code KafkaConsumer.poll} keeps being called (the runtime polls at least every
 * {@code ackTimeout / 3}), so the member is never dropped for exceeding {@code max.poll.interval.ms}. A poll that
 * has records fills itself up to what the runtime asked for from what Kafka has fetched already (further
 * {@code KafkaConsumer.poll} calls that do not wait), so a backlog reaches the runtime in large batches while a
 * {@code KafkaConsumer.poll} still returns at most 500 records. Commits are asynchronous, at most every
 * {@code commitInterval}; synchronous on revocation and on close.
 *
 * <h2>Rebalancing</h2>
 * Cooperative: only partitions that move are revoked. On revocation the member waits (at most
 * {@code rebalanceTimeout}) until every record it handed out from those partitions is settled, then commits them
 * synchronously and forgets them; records fetched but not handed out are dropped and the new owner reads them from
 * the committed offset. So the new owner never sees a record this member still holds, and same-key order holds
 * across the move. If the runtime still holds records when the wait ends, their delivery counts are committed
 * and the new owner may receive them while this member finishes them (late acks are ignored).
 *
 * <h2>Threads</h2>
 * {@link #poll} runs on one thread at a time and owns the {@code KafkaConsumer} and all partition state; the
 * settling calls of records ({@link KRecord#ack()} etc.) come from any thread and only set volatile fields or enqueue;
 * {@link #close()} takes the poll lock, so it never touches the consumer while a poll is running.
 */
final class KafkaMember implements BackendConsumer, ConsumerRebalanceListener {
  private static final System.Logger LOG = System.getLogger("io.polybus.kafka");
  private static final int MAX_POLL_RECORDS = 500;
  /** Poll Kafka at least this often while records wait here, for heartbeats, rebalances and commit callbacks. */
  private static final long SECOND_ROUND_NANOS = TimeUnit.MILLISECONDS.toNanos(3000);
  private static final long IDLE_KAFKA_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final KafkaBackend backend;
  private final ConsumerSpec spec;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final ReentrantLock pollLock = new ReentrantLock();
  private final Map<TopicPartition, PartitionState> owned = new HashMap<>();
  /**
   * Fetched records not handed out yet, as Kafka returned them (one run of one partition each), in fetch order. A
   * record becomes a {@link KRecord} in its partition's state only when it is handed out: the poll thread is this
   * subscription's bottleneck, and records waiting here need no state of their own (the committed offset stops at
   * the first of them because {@link PartitionState#nextOffset} has not passed it yet).
   */
  private final ArrayDeque<Fetched> ready = new ArrayDeque<>();
  /** The records in {@link #ready}. */
  private int readyCount;
  /**
   * The records of the {@link #poll} call in progress: leased, not yet returned to the runtime. A rebalance inside
   * that call (in {@code KafkaConsumer.poll}) takes those of the partitions it moves back out ({@link #withdraw}).
   */
  private List<InboundRecord> handingOut;
  /** Records given back with {@code release}: handed out again first. */
  private final ConcurrentLinkedQueue<KRecord> released = new ConcurrentLinkedQueue<>();
  private final long commitIntervalNanos;
  private final int maxPollRecords;
  private volatile boolean closed;
  private volatile boolean metadataDirty;
  private boolean paused;
  private boolean joined;
  private long lastKafkaPoll;
  private long lastCommit;

  KafkaMember(KafkaBackend backend, ConsumerSpec spec) {
    this.backend = backend;
    this.spec = spec;
    this.commitIntervalNanos = backend.settings.commitInterval.toNanos();
    // Used only when the committed offset is no longer retained: a group that asked for history (an EARLIEST,
    // timestamp or offset start) goes on at the oldest record left, a LATEST group at the end.
    String reset = spec.startFrom() == StartFrom.LATEST ? "latest" : "earliest";
    int maxPoll = Math.max(1, Math.min(MAX_POLL_RECORDS, spec.maxInFlight()));
    this.maxPollRecords = maxPoll;
    try {
      this.consumer = new KafkaConsumer<>(backend.settings.consumer(spec.group(), reset, maxPoll),
          new ByteArrayDeserializer(), new ByteArrayDeserializer());
    } catch (KafkaException e) {
      throw KafkaErrors.map("creating a Kafka consumer for group " + spec.group(), e);
    }
    consumer.subscribe(List.of(spec.topic()), this);
    awaitFirstAssignment();
  }

  /**
   * Joins the group before {@code subscribe} returns, so that the member takes its share at once and a first poll
   * with a short timeout (a redrive) is not spent on the join. Bounded by {@code joinTimeout}.
   */
  private void awaitFirstAssignment() {
    long deadline = System.nanoTime() + backend.settings.joinTimeout.toNanos();
    pollLock.lock();
    try {
      while (!joined && System.nanoTime() < deadline && !closed) {
        kafkaPoll(Duration.ofMillis(100));
      }
      // A cooperative rebalance gives a new member its partitions in a second round, once the others revoked
      // them: wait for that round too (about two heartbeats) unless the first round gave it some already.
      long secondRound = Math.min(deadline, System.nanoTime() + SECOND_ROUND_NANOS);
      while (joined && owned.isEmpty() && System.nanoTime() < secondRound && !closed) {
        kafkaPoll(Duration.ofMillis(100));
      }
      if (!joined) {
        LOG.log(System.Logger.Level.WARNING, () -> "member of group " + spec.group() + " on " + spec.topic()
            + " got no assignment within " + backend.settings.joinTimeout + "; it keeps trying while polled");
      }
    } catch (RuntimeException e) {
      closeConsumerQuietly();
      throw KafkaErrors.map("joining group " + spec.group() + " on " + spec.topic(), e);
    } finally {
      pollLock.unlock();
    }
  }

  // ---------------------------------------------------------------- polling

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) {
    if (closed) {
      return List.of();
    }
    pollLock.lock();
    try {
      if (closed) {
        return List.of();
      }
      advanceAll();
      if (max <= 0) {
        // Heartbeat: keep the membership and rebalances going; fetch no more than one batch ahead.
        adjustPause();
        kafkaPoll(Duration.ZERO);
        maybeCommit();
        return List.of();
      }
      List<InboundRecord> out = new ArrayList<>(Math.min(max, 2048));
      handingOut = out;
      take(out, max);
      if (out.isEmpty()) {
        long deadline = System.nanoTime() + timeout.toNanos();
        adjustPause();
        while (!closed) {
          long left = deadline - System.nanoTime();
          boolean woken = !kafkaPoll(Duration.ofNanos(Math.max(0, left)));
          take(out, max);
          if (!out.isEmpty() || woken || System.nanoTime() >= deadline) {
            break;
          }
          advanceAll();
          maybeCommit();
        }
      } else if (System.nanoTime() - lastKafkaPoll > IDLE_KAFKA_POLL_NANOS) {
        adjustPause();
        kafkaPoll(Duration.ZERO);
      }
      // Fill the call up from what Kafka has fetched already, without waiting: the runtime hands each call's records
      // to its workers at once, and a hand-over that wakes an idle worker was seen to preempt this thread about once
      // per call; a backlog read in calls of 500 records lost a tenth of its rate to that.
      while (!out.isEmpty() && out.size() < max && !closed) {
        int before = out.size();
        adjustPause();
        if (!kafkaPoll(Duration.ZERO)) {
          break; // woken up
        }
        take(out, max);
        if (out.size() == before) {
          break;
        }
      }
      adjustPause();
      maybeCommit();
      return out;
    } finally {
      handingOut = null;
      pollLock.unlock();
    }
  }

  /** Hands out released records first, then fetched ones, up to {@code max} in all. */
  private void take(List<InboundRecord> out, int max) {
    int before = out.size();
    KRecord r;
    while (out.size() < max && (r = released.poll()) != null) {
      if (!r.partition.revoked && r.state == KRecord.RELEASED) {
        lease(r, out);
      }
    }
    Fetched f;
    while (out.size() < max && (f = ready.peekFirst()) != null) {
      PartitionState ps = f.partition;
      List<ConsumerRecord<byte[], byte[]>> records = f.records;
      if (ps.revoked) {
        readyCount -= records.size() - f.next;
        ready.pollFirst();
        continue;
      }
      int end = Math.min(records.size(), f.next + (max - out.size()));
      readyCount -= end - f.next;
      while (f.next < end) {
        r = admit(ps, records.get(f.next++));
        if (r != null) {
          lease(r, out);
        }
      }
      if (f.next == records.size()) {
        ready.pollFirst();
      }
    }
    if (out.size() > before) {
      metadataDirty = true; // once per call: a volatile write per record costs the poll thread a fence each
    }
  }

  /**
   * The state of a fetched record about to be handed out, in its partition's offset order; null when it needs no
   * delivery (fetched again after a seek, or acked before the partition moved here: a gap in
   * {@link PartitionState#records}, committed past like any other).
   */
  private KRecord admit(PartitionState ps, ConsumerRecord<byte[], byte[]> cr) {
    long offset = cr.offset();
    if (offset < ps.nextOffset) {
      return null;
    }
    ps.nextOffset = offset + 1;
    Integer prior = ps.priors.isEmpty() ? null : ps.priors.remove(offset);
    if (prior != null && prior == CommitMetadata.ACKED) {
      return null;
    }
    KRecord r = new KRecord(this, ps, cr, prior == null ? 0 : prior);
    ps.records.add(r);
    return r;
  }

  private static void lease(KRecord r, List<InboundRecord> out) {
    r.deliveriesBeforeLease = r.deliveries;
    r.deliveries = Math.max(r.deliveries, r.attempts) + 1;
    // Plain: the runtime receives the record through a queue (a happens-before edge) before anyone settles it.
    KRecord.STATE.set(r, KRecord.LEASED);
    out.add(r);
  }

  /** One partition's records from one {@code KafkaConsumer.poll}, handed out from {@link #next} on. */
  private static final class Fetched {
    final PartitionState partition;
    final List<ConsumerRecord<byte[], byte[]>> records;
    int next;

    Fetched(PartitionState partition, List<ConsumerRecord<byte[], byte[]>> records) {
      this.partition = partition;
      this.records = records;
    }
  }

  /** One {@code KafkaConsumer.poll}; false when it was woken up. */
  private boolean kafkaPoll(Duration timeout) {
    ConsumerRecords<byte[], byte[]> records;
    try {
      records = consumer.poll(timeout);
    } catch (WakeupException e) {
      lastKafkaPoll = System.nanoTime();
      return false;
    }
    lastKafkaPoll = System.nanoTime();
    if (records.isEmpty()) {
      return true;
    }
    for (TopicPartition tp : records.partitions()) {
      PartitionState ps = owned.get(tp);
      if (ps == null || ps.revoked) {
        continue; // not ours any more
      }
      List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
      if (!list.isEmpty()) {
        ready.add(new Fetched(ps, list));
        readyCount += list.size();
      }
    }
    return true;
  }

  /**
   * Fetching stops while a batch of fetched records waits here for room in the runtime, so this member never holds
   * more than about two fetches ahead of what it was asked for; Kafka keeps what it already fetched for paused
   * partitions.
   */
  private void adjustPause() {
    if (readyCount >= maxPollRecords) {
      pauseAll();
    } else {
      resumeAll();
    }
  }

  private void pauseAll() {
    if (!paused && !owned.isEmpty()) {
      consumer.pause(owned.keySet());
      paused = true;
    }
  }

  private void resumeAll() {
    if (paused) {
      consumer.resume(consumer.paused());
      paused = false;
    }
  }

  // ---------------------------------------------------------------- commits

  /** Drops acked records from the head of every partition. */
  private void advanceAll() {
    for (PartitionState ps : owned.values()) {
      ps.advance();
    }
  }

  private void maybeCommit() {
    long now = System.nanoTime();
    if (now - lastCommit < commitIntervalNanos) {
      return;
    }
    lastCommit = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = pendingCommits(owned.values(), false);
    if (offsets.isEmpty()) {
      return;
    }
    consumer.commitAsync(offsets, (done, err) -> {
      if (err != null) {
        // Send it again next time: a failed async commit must not leave the group behind for good.
        LOG.log(System.Logger.Level.DEBUG, () -> "async commit for " + spec.group() + " failed: " + err);
        for (TopicPartition tp : offsets.keySet()) {
          PartitionState ps = owned.get(tp);
          if (ps != null) {
            ps.lastCommitted = null;
          }
        }
      }
    });
  }

  /** The commits that would change what the group has stored, for the given partitions. */
  private Map<TopicPartition, OffsetAndMetadata> pendingCommits(Collection<PartitionState> states, boolean all) {
    boolean withMetadata = metadataDirty;
    metadataDirty = false;
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (PartitionState ps : states) {
      ps.advance();
      if (ps.nextOffset < 0) {
        continue; // position unknown: nothing fetched, nothing to say
      }
      long offset = ps.records.isEmpty() ? ps.nextOffset : ps.records.peekFirst().offset;
      if (!all && !withMetadata && ps.lastCommitted != null && ps.lastCommitted.offset() == offset) {
        continue;
      }
      OffsetAndMetadata om = new OffsetAndMetadata(offset, ps.metadata(offset));
      if (om.equals(ps.lastCommitted)) {
        continue;
      }
      ps.lastCommitted = om;
      offsets.put(ps.tp, om);
    }
    return offsets;
  }

  private void commitSync(Collection<PartitionState> states) {
    Map<TopicPartition, OffsetAndMetadata> offsets = pendingCommits(states, true);
    if (offsets.isEmpty()) {
      return;
    }
    Duration timeout = backend.settings.publishTimeout;
    for (int attempt = 0; ; attempt++) {
      try {
        consumer.commitSync(offsets, timeout);
        return;
      } catch (WakeupException e) {
        // A wakeup() meant for poll (close() sends one) lands on the next blocking call: this one. Commit again.
        if (attempt > 0) {
          throw e;
        }
      } catch (KafkaException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "commit of " + offsets.keySet() + " for group " + spec.group()
            + " failed; those records will be delivered again: " + e);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- rebalancing (called inside consumer.poll)

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    joined = true;
    if (partitions.isEmpty()) {
      return;
    }
    // States first, so that no fetched record is dropped even if reading the committed state fails below.
    for (TopicPartition tp : partitions) {
      owned.put(tp, new PartitionState(tp));
    }
    Map<TopicPartition, OffsetAndMetadata> committed;
    try {
      committed = retryOnWakeup(() -> consumer.committed(Set.copyOf(partitions)));
    } catch (KafkaException e) {
      LOG.log(System.Logger.Level.WARNING, () -> "reading the committed state of " + partitions + " for group "
          + spec.group() + " failed; delivery counts of records in flight there restart: " + e);
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
    Set<TopicPartition> unplaced = new HashSet<>();
    for (TopicPartition tp : partitions) {
      PartitionState ps = owned.get(tp);
      OffsetAndMetadata om = committed.get(tp);
      if (om != null) {
        ps.nextOffset = om.offset();
        ps.priors = CommitMetadata.parse(om.offset(), om.metadata());
        ps.lastCommitted = om;
        continue;
      }
      unplaced.add(tp);
    }
    // No offset yet (a partition added after the group was created, or a group another application made, or one
    // this bus is placing while this member joins): fix the start position now, so that a crash before the first
    // ack does not move it.
    if (!unplaced.isEmpty()) {
      try {
        Map<TopicPartition, Long> positions = retryOnWakeup(() -> startPositions(unplaced));
        for (TopicPartition tp : unplaced) {
          long pos = positions.get(tp);
          PartitionState ps = owned.get(tp);
          ps.nextOffset = pos;
          ps.lastCommitted = new OffsetAndMetadata(pos, "");
          start.put(tp, ps.lastCommitted);
        }
      } catch (KafkaException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "resolving the start of " + unplaced + " failed: " + e);
      }
    }
    if (!start.isEmpty()) {
      try {
        retryOnWakeup(() -> {
          consumer.commitSync(start);
          return null;
        });
      } catch (KafkaException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "committing the start of " + start.keySet() + " failed: " + e);
      }
    }
  }

  /**
   * Where this group starts in partitions it has no offset for, by {@code startFrom}, with the same rules as the
   * admin client's placing ({@link KafkaBackend#startPositions}); the consumer is moved there.
   */
  private Map<TopicPartition, Long> startPositions(Set<TopicPartition> partitions) {
    StartFrom from = spec.startFrom();
    Map<TopicPartition, Long> positions = KafkaBackend.startPositions(partitions, from, kind -> {
      switch (kind) {
        case EARLIEST:
          return consumer.beginningOffsets(partitions);
        case LATEST:
          return consumer.endOffsets(partitions);
        default: {
          Map<TopicPartition, Long> at = new HashMap<>();
          partitions.forEach(tp -> at.put(tp, from.timestampMillis()));
          Map<TopicPartition, Long> found = new HashMap<>();
          consumer.offsetsForTimes(at).forEach((tp, o) -> found.put(tp, o == null ? -1L : o.offset()));
          return found;
        }
      }
    });
    positions.forEach(consumer::seek);
    return positions;
  }

  /** Runs a blocking consumer call again if a wakeup meant for poll (close sends one) interrupted it. */
  private static <T> T retryOnWakeup(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (WakeupException e) {
      return call.get();
    }
  }

  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    List<PartitionState> states = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      PartitionState ps = owned.get(tp);
      if (ps != null) {
        states.add(ps);
      }
    }
    withdraw(partitions);
    if (!closed) {
      // Let the runtime finish what it holds of these partitions, so the new owner starts after it.
      long deadline = System.nanoTime() + backend.settings.rebalanceTimeout.toNanos();
      while (!closed && System.nanoTime() < deadline && anyLeased(states)) {
        KafkaBackend.sleep(5);
      }
    }
    commitSync(states);
    forget(partitions);
  }

  @Override
  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    // The group moved on without us (session expired): committing would fail; the new owners redeliver.
    withdraw(partitions);
    forget(partitions);
  }

  /**
   * Takes the records of {@code partitions} out of the poll call in progress, as if never leased: the runtime has
   * not seen them, so waiting for it to settle them would only run out the rebalance timeout, and the next owner
   * delivers them with the delivery counts they had.
   */
  private void withdraw(Collection<TopicPartition> partitions) {
    List<InboundRecord> out = handingOut;
    if (out == null || out.isEmpty()) {
      return;
    }
    out.removeIf(x -> {
      KRecord r = (KRecord) x;
      if (!partitions.contains(r.partition.tp)) {
        return false;
      }
      r.deliveries = r.deliveriesBeforeLease;
      KRecord.STATE.set(r, KRecord.READY);
      return true;
    });
  }

  private static boolean anyLeased(List<PartitionState> states) {
    for (PartitionState ps : states) {
      for (KRecord r : ps.records) {
        if (r.state == KRecord.LEASED) {
          return true;
        }
      }
    }
    return false;
  }

  private void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      PartitionState ps = owned.remove(tp);
      if (ps != null) {
        ps.revoked = true;
      }
    }
    ready.removeIf(f -> f.partition.revoked);
    readyCount = 0;
    for (Fetched f : ready) {
      readyCount += f.records.size() - f.next;
    }
  }

  // ---------------------------------------------------------------- wakeup and close

  @Override
  public void wakeup() {
    consumer.wakeup();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    consumer.wakeup(); // a poll in progress returns, and releases the lock
    pollLock.lock();
    try {
      // Commit what is acked, and the delivery counts of what is not: those records go back to the group.
      commitSync(new ArrayList<>(owned.values()));
      for (PartitionState ps : owned.values()) {
        ps.revoked = true; // settling calls from now on are ignored
      }
      closeConsumerQuietly();
    } finally {
      pollLock.unlock();
    }
  }

  private void closeConsumerQuietly() {
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, () -> "closing the Kafka consumer of group " + spec.group()
          + " failed: " + e);
    }
  }

  @Override
  public String toString() {
    return "KafkaMember{topic=" + spec.topic() + ", group=" + spec.group() + (closed ? ", closed" : "") + "}";
  }

  // ---------------------------------------------------------------- state

  /** One assigned partition. Owned by the poll thread, except {@link #revoked} (read by settling threads). */
  static final class PartitionState {
    final TopicPartition tp;
    /** Records handed out and not yet committed past, in offset order (gaps: records acked or never there). */
    final ArrayDeque<KRecord> records = new ArrayDeque<>();
    /** Delivery state restored from the commit metadata, for offsets not fetched yet. */
    TreeMap<Long, Integer> priors = new TreeMap<>();
    /** The offset after the last record handed out or skipped; -1 until known. */
    long nextOffset = -1;
    OffsetAndMetadata lastCommitted;
    volatile boolean revoked;

    PartitionState(TopicPartition tp) {
      this.tp = tp;
    }

    void advance() {
      KRecord head;
      while ((head = records.peekFirst()) != null && head.state == KRecord.ACKED) {
        records.pollFirst();
      }
    }

    /** The delivery state from {@code offset} on, see {@link CommitMetadata}. */
    String metadata(long offset) {
      if (records.isEmpty() && priors.isEmpty()) {
        return "";
      }
      CommitMetadata.Encoder e = new CommitMetadata.Encoder();
      long next = offset;
      for (KRecord r : records) {
        e.add(CommitMetadata.ACKED, r.offset - next); // gaps: nothing to deliver there
        e.add(r.state == KRecord.ACKED ? CommitMetadata.ACKED : r.countedDeliveries(), 1);
        next = r.offset + 1;
      }
      if (!priors.isEmpty()) {
        // Restored state of records not fetched yet must not be lost by this commit.
        e.add(CommitMetadata.ACKED, Math.max(0, nextOffset - next));
        next = Math.max(next, nextOffset);
        for (Map.Entry<Long, Integer> p : priors.tailMap(next, true).entrySet()) {
          e.add(0, p.getKey() - next);
          e.add(p.getValue(), 1);
          next = p.getKey() + 1;
        }
      }
      return e.finish();
    }
  }

  /**
   * One fetched record, and its lease while handed out. {@link #state} and {@link #attempts} are written by
   * settling threads; everything else by the poll thread.
   */
  static final class KRecord implements InboundRecord {
    static final int READY = 0;
    static final int LEASED = 1;
    static final int ACKED = 2;
    static final int RELEASED = 3;
    static final java.lang.invoke.VarHandle STATE;

    static {
      try {
        STATE = java.lang.invoke.MethodHandles.lookup().findVarHandle(KRecord.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final KafkaMember member;
    final PartitionState partition;
    final long offset;
    private final ConsumerRecord<byte[], byte[]> raw;
    private Message message;
    /** Deliveries to the group so far, counting those before the partition came here. */
    int deliveries;
    /** {@link #deliveries} before the latest lease, to undo a lease the runtime never saw. */
    int deliveriesBeforeLease;
    volatile int attempts;
    volatile int state = READY;
    /** Set by {@link #markNotHandled()} while the subscription closes. */
    volatile boolean notHandled;

    KRecord(KafkaMember member, PartitionState partition, ConsumerRecord<byte[], byte[]> raw, int prior) {
      this.member = member;
      this.partition = partition;
      this.offset = raw.offset();
      this.raw = raw;
      this.deliveries = prior;
    }

    @Override
    public Message message() {
      Message m = message;
      if (m == null) {
        m = KafkaMapping.toLazyMessage(raw);
        message = m; // racy but idempotent: every thread builds an equal message
      }
      return m;
    }

    /** The key's bytes as fetched: routing a record by key decodes neither the key nor the message. */
    @Override
    public Object orderingKey() {
      return io.polybus.spi.RawKey.of(raw.key());
    }

    @Override
    public int deliveryCount() {
      return deliveries;
    }

    @Override
    public void ack() {
      if (!member.closed && !partition.revoked) {
        state = ACKED; // volatile: the poll thread sees it in advance(), then commits past it
      }
    }

    @Override
    public void release(Duration delay) {
      if (!member.closed && !partition.revoked) {
        state = RELEASED;
        member.released.add(this);
        member.metadataDirty = true;
      }
    }

    @Override
    public void recordAttempts(int n) {
      if (n > attempts && !member.closed && !partition.revoked) {
        attempts = n;
        member.metadataDirty = true;
      }
    }

    @Override
    public void markNotHandled() {
      if (!member.closed && !partition.revoked) {
        notHandled = true; // read by close(), whose commit carries the count without this delivery
      }
    }

    /**
     * The deliveries the commit metadata carries for this unacked record: the latest lease is left out when no
     * handler saw it, so the next owner's delivery has this one's count.
     */
    int countedDeliveries() {
      int counted = Math.max(deliveries, attempts);
      return notHandled && state == LEASED ? Math.max(deliveriesBeforeLease, attempts) : counted;
    }
  }
}
