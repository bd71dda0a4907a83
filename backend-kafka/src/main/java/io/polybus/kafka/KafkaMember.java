package io.polybus.kafka;

import io.polybus.StartFrom;
import io.polybus.kafka.PartitionLeases.KRecord;
import io.polybus.kafka.PartitionLeases.PartitionState;
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
 * One group member: a {@code KafkaConsumer} in the Kafka consumer group of the same name, with
 * per-record leases on top of Kafka's per-partition offsets.
 *
 * <h2>Leases on a log</h2>
 *
 * Kafka only remembers "everything before offset O of a partition is done", and the runtime acks
 * out of order: {@link PartitionLeases} keeps the records handed out of each partition and decides
 * what to commit, carrying acks past the offset and delivery counts in the commit metadata. This
 * class fetches, commits and follows rebalances.
 *
 * <h2>Flow</h2>
 *
 * Records of different keys in one partition are handed out together and run in parallel on the
 * runtime's threads; the runtime keeps one key in order. While records fetched from Kafka wait here
 * for room in the runtime, every partition is paused, and {@code KafkaConsumer.poll} keeps being
 * called (the runtime polls at least every {@code ackTimeout / 3}), so the member is never dropped
 * for exceeding {@code max.poll.interval.ms}. A poll that has records fills itself up to what the
 * runtime asked for from what Kafka has fetched already (further {@code KafkaConsumer.poll} calls
 * that do not wait), so a backlog reaches the runtime in large batches while a {@code
 * KafkaConsumer.poll} still returns at most 500 records. Commits are asynchronous, at most every
 * {@code commitInterval}; synchronous on revocation and on close.
 *
 * <h2>Rebalancing</h2>
 *
 * Cooperative: only partitions that move are revoked. On revocation the member waits (at most
 * {@code rebalanceTimeout}) until every record it handed out from those partitions is settled, then
 * commits them synchronously and forgets them; records fetched but not handed out are dropped and
 * the new owner reads them from the committed offset. So the new owner never sees a record this
 * member still holds, and same-key order holds across the move. If the runtime still holds records
 * when the wait ends, their delivery counts are committed and the new owner may receive them while
 * this member finishes them (late acks are ignored).
 *
 * <h2>Threads</h2>
 *
 * {@link #poll} runs on one thread at a time and owns the {@code KafkaConsumer}, the fetch buffer
 * ({@link #ready}) and the {@link PartitionLeases}; the settling calls of records ({@link
 * KRecord#ack()} etc.) come from any thread and only touch what {@link PartitionLeases} lets them;
 * {@link #close()} takes the poll lock, so it never touches the consumer while a poll is running.
 */
final class KafkaMember implements BackendConsumer, ConsumerRebalanceListener {
  private static final System.Logger LOG = System.getLogger("io.polybus.kafka");
  private static final int MAX_POLL_RECORDS = 500;

  /**
   * Poll Kafka at least this often while records wait here, for heartbeats, rebalances and commit
   * callbacks.
   */
  private static final long SECOND_ROUND_NANOS = TimeUnit.MILLISECONDS.toNanos(3000);

  private static final long IDLE_KAFKA_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final KafkaBackend backend;
  private final ConsumerSpec spec;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final ReentrantLock pollLock = new ReentrantLock();
  private final PartitionLeases leases = new PartitionLeases();

  /**
   * Fetched records not handed out yet, as Kafka returned them (one run of one partition each), in
   * fetch order. A record becomes a {@link KRecord} in its partition's state only when it is handed
   * out: the poll thread is this subscription's bottleneck, and records waiting here need no state
   * of their own (the committed offset stops at the first of them because {@link
   * PartitionState#nextOffset} has not passed it yet).
   */
  private final ArrayDeque<Fetched> ready = new ArrayDeque<>();

  /** The records in {@link #ready}. */
  private int readyCount;

  /**
   * The records of the {@link #poll} call in progress: leased, not yet returned to the runtime. A
   * rebalance inside that call (in {@code KafkaConsumer.poll}) takes those of the partitions it
   * moves back out ({@link PartitionLeases#withdraw}).
   */
  private List<InboundRecord> handingOut;

  private final long commitIntervalNanos;
  private final int maxPollRecords;
  private volatile boolean closed;
  private boolean paused;
  private boolean joined;
  private long lastKafkaPoll;
  private long lastCommit;

  KafkaMember(KafkaBackend backend, ConsumerSpec spec) {
    this.backend = backend;
    this.spec = spec;
    this.commitIntervalNanos = backend.settings.commitInterval.toNanos();
    // Used only when the committed offset is no longer retained: a group that asked for history (an
    // EARLIEST,
    // timestamp or offset start) goes on at the oldest record left, a LATEST group at the end.
    String reset = spec.startFrom() == StartFrom.LATEST ? "latest" : "earliest";
    int maxPoll = Math.max(1, Math.min(MAX_POLL_RECORDS, spec.maxInFlight()));
    this.maxPollRecords = maxPoll;
    try {
      this.consumer =
          new KafkaConsumer<>(
              backend.settings.consumer(spec.group(), reset, maxPoll),
              new ByteArrayDeserializer(),
              new ByteArrayDeserializer());
    } catch (KafkaException e) {
      throw KafkaErrors.map("creating a Kafka consumer for group " + spec.group(), e);
    }
    consumer.subscribe(List.of(spec.topic()), this);
    awaitFirstAssignment();
  }

  /**
   * Joins the group before {@code subscribe} returns, so that the member takes its share at once
   * and a first poll with a short timeout (a redrive) is not spent on the join. Bounded by {@code
   * joinTimeout}.
   */
  private void awaitFirstAssignment() {
    long deadline = System.nanoTime() + backend.settings.joinTimeout.toNanos();
    pollLock.lock();
    try {
      while (!joined && System.nanoTime() < deadline && !closed) {
        kafkaPoll(Duration.ofMillis(100));
      }
      // A cooperative rebalance gives a new member its partitions in a second round, once the
      // others revoked
      // them: wait for that round too (about two heartbeats) unless the first round gave it some
      // already.
      long secondRound = Math.min(deadline, System.nanoTime() + SECOND_ROUND_NANOS);
      while (joined && leases.isEmpty() && System.nanoTime() < secondRound && !closed) {
        kafkaPoll(Duration.ofMillis(100));
      }
      if (!joined) {
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                "member of group "
                    + spec.group()
                    + " on "
                    + spec.topic()
                    + " got no assignment within "
                    + backend.settings.joinTimeout
                    + "; it keeps trying while polled");
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
      leases.advanceAll();
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
          leases.advanceAll();
          maybeCommit();
        }
      } else if (System.nanoTime() - lastKafkaPoll > IDLE_KAFKA_POLL_NANOS) {
        adjustPause();
        kafkaPoll(Duration.ZERO);
      }
      // Fill the call up from what Kafka has fetched already, without waiting: the runtime hands
      // each call's records
      // to its workers at once, and a hand-over that wakes an idle worker was seen to preempt this
      // thread about once
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
    leases.takeReleased(out, max);
    KRecord r;
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
        r = leases.admit(ps, records.get(f.next++));
        if (r != null) {
          PartitionLeases.lease(r, out);
        }
      }
      if (f.next == records.size()) {
        ready.pollFirst();
      }
    }
    if (out.size() > before) {
      leases.handedOut(); // once per call, not per record
    }
  }

  /**
   * One partition's records from one {@code KafkaConsumer.poll}, handed out from {@link #next} on.
   */
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
      PartitionState ps = leases.get(tp);
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
   * Fetching stops while a batch of fetched records waits here for room in the runtime, so this
   * member never holds more than about two fetches ahead of what it was asked for; Kafka keeps what
   * it already fetched for paused partitions.
   */
  private void adjustPause() {
    if (readyCount >= maxPollRecords) {
      pauseAll();
    } else {
      resumeAll();
    }
  }

  private void pauseAll() {
    if (!paused && !leases.isEmpty()) {
      consumer.pause(leases.partitions());
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

  private void maybeCommit() {
    long now = System.nanoTime();
    if (now - lastCommit < commitIntervalNanos) {
      return;
    }
    lastCommit = now;
    Map<TopicPartition, OffsetAndMetadata> offsets = leases.pendingCommits(leases.states(), false);
    if (offsets.isEmpty()) {
      return;
    }
    consumer.commitAsync(
        offsets,
        (done, err) -> {
          if (err != null) {
            // Send it again next time: a failed async commit must not leave the group behind for
            // good.
            LOG.log(
                System.Logger.Level.DEBUG,
                () -> "async commit for " + spec.group() + " failed: " + err);
            leases.commitFailed(offsets.keySet());
          }
        });
  }

  private void commitSync(Collection<PartitionState> states) {
    Map<TopicPartition, OffsetAndMetadata> offsets = leases.pendingCommits(states, true);
    if (offsets.isEmpty()) {
      return;
    }
    Duration timeout = backend.settings.publishTimeout;
    for (int attempt = 0; ; attempt++) {
      try {
        consumer.commitSync(offsets, timeout);
        return;
      } catch (WakeupException e) {
        // A wakeup() meant for poll (close() sends one) lands on the next blocking call: this one.
        // Commit again.
        if (attempt > 0) {
          throw e;
        }
      } catch (KafkaException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                "commit of "
                    + offsets.keySet()
                    + " for group "
                    + spec.group()
                    + " failed; those records will be delivered again: "
                    + e);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- rebalancing (called inside
  // consumer.poll)

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    joined = true;
    if (partitions.isEmpty()) {
      return;
    }
    // States first, so that no fetched record is dropped even if reading the committed state fails
    // below.
    for (TopicPartition tp : partitions) {
      leases.assign(tp);
    }
    Map<TopicPartition, OffsetAndMetadata> committed;
    try {
      committed = retryOnWakeup(() -> consumer.committed(Set.copyOf(partitions)));
    } catch (KafkaException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          () ->
              "reading the committed state of "
                  + partitions
                  + " for group "
                  + spec.group()
                  + " failed; delivery counts of records in flight there restart: "
                  + e);
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
    Set<TopicPartition> unplaced = new HashSet<>();
    for (TopicPartition tp : partitions) {
      OffsetAndMetadata om = committed.get(tp);
      if (om != null) {
        leases.resume(leases.get(tp), om);
        continue;
      }
      unplaced.add(tp);
    }
    // No offset yet (a partition added after the group was created, or a group another application
    // made, or one
    // this bus is placing while this member joins): fix the start position now, so that a crash
    // before the first
    // ack does not move it.
    if (!unplaced.isEmpty()) {
      try {
        Map<TopicPartition, Long> positions = retryOnWakeup(() -> startPositions(unplaced));
        for (TopicPartition tp : unplaced) {
          start.put(tp, leases.place(leases.get(tp), positions.get(tp)));
        }
      } catch (KafkaException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () -> "resolving the start of " + unplaced + " failed: " + e);
      }
    }
    if (!start.isEmpty()) {
      try {
        retryOnWakeup(
            () -> {
              consumer.commitSync(start);
              return null;
            });
      } catch (KafkaException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () -> "committing the start of " + start.keySet() + " failed: " + e);
      }
    }
  }

  /**
   * Where this group starts in partitions it has no offset for, by {@code startFrom}, with the same
   * rules as the admin client's placing ({@link KafkaBackend#startPositions}); the consumer is
   * moved there.
   */
  private Map<TopicPartition, Long> startPositions(Set<TopicPartition> partitions) {
    StartFrom from = spec.startFrom();
    Map<TopicPartition, Long> positions =
        KafkaBackend.startPositions(
            partitions,
            from,
            kind -> {
              switch (kind) {
                case EARLIEST:
                  return consumer.beginningOffsets(partitions);
                case LATEST:
                  return consumer.endOffsets(partitions);
                default:
                  {
                    Map<TopicPartition, Long> at = new HashMap<>();
                    partitions.forEach(tp -> at.put(tp, from.timestampMillis()));
                    Map<TopicPartition, Long> found = new HashMap<>();
                    consumer
                        .offsetsForTimes(at)
                        .forEach((tp, o) -> found.put(tp, o == null ? -1L : o.offset()));
                    return found;
                  }
              }
            });
    positions.forEach(consumer::seek);
    return positions;
  }

  /**
   * Runs a blocking consumer call again if a wakeup meant for poll (close sends one) interrupted
   * it.
   */
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
      PartitionState ps = leases.get(tp);
      if (ps != null) {
        states.add(ps);
      }
    }
    PartitionLeases.withdraw(handingOut, partitions);
    if (!closed) {
      // Let the runtime finish what it holds of these partitions, so the new owner starts after it.
      long deadline = System.nanoTime() + backend.settings.rebalanceTimeout.toNanos();
      while (!closed && System.nanoTime() < deadline && PartitionLeases.anyLeased(states)) {
        KafkaBackend.sleep(5);
      }
    }
    commitSync(states);
    forget(partitions);
  }

  @Override
  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    // The group moved on without us (session expired): committing would fail; the new owners
    // redeliver.
    PartitionLeases.withdraw(handingOut, partitions);
    forget(partitions);
  }

  private void forget(Collection<TopicPartition> partitions) {
    leases.forget(partitions);
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
    leases.close(); // settling calls from now on are ignored
    consumer.wakeup(); // a poll in progress returns, and releases the lock
    pollLock.lock();
    try {
      // Commit what is acked, and the delivery counts of what is not: those records go back to the
      // group.
      commitSync(new ArrayList<>(leases.states()));
      leases.revokeAll();
      closeConsumerQuietly();
    } finally {
      pollLock.unlock();
    }
  }

  private void closeConsumerQuietly() {
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          () -> "closing the Kafka consumer of group " + spec.group() + " failed: " + e);
    }
  }

  @Override
  public String toString() {
    return "KafkaMember{topic="
        + spec.topic()
        + ", group="
        + spec.group()
        + (closed ? ", closed" : "")
        + "}";
  }
}
