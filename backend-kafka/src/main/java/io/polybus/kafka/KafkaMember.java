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
 * runtime's threads; the runtime keeps one key in order. Fetched records wait here in one lane per
 * partition, and a lane that holds a fetch's worth of bytes pauses its partition, so {@code
 * KafkaConsumer.poll} keeps being called (the runtime polls at least every {@code ackTimeout / 3})
 * and the member is never dropped for exceeding {@code max.poll.interval.ms}. A poll that has
 * records fills itself up to what the runtime asked for from what Kafka has fetched already
 * (further {@code KafkaConsumer.poll} calls that do not wait), so a backlog reaches the runtime in
 * large batches while a {@code KafkaConsumer.poll} still returns at most 500 records. Commits are
 * asynchronous, at most every {@code commitInterval}; synchronous on revocation and on close.
 *
 * <h2>Fairness between partitions</h2>
 *
 * {@code KafkaConsumer.poll} returns one partition's fetched run (up to {@code
 * max.partition.fetch.bytes}, thousands of small records) before it starts the next, so a backlog
 * handed out in that order keeps every handler thread on one partition while ready messages of the
 * others wait. Pausing a full lane makes Kafka return the other partitions' runs, which it keeps
 * while their partitions are paused, and the records are handed out oldest first by their Kafka
 * timestamps, a record at a time across the lanes: a backlog across partitions is handled in about
 * the order it was written, and a partition that fell behind (its fetch came late) catches up
 * rather than staying behind.
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
 * ({@link #lanes}) and the {@link PartitionLeases}; the settling calls of records ({@link
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

  /**
   * While some lane is not full, a poll served from the lanes asks Kafka for more first, at most
   * this often: so a lane is topped up (and its partition's next fetch sent) well before it runs
   * dry, while a caught-up partition, which has nothing, costs at most one {@code
   * KafkaConsumer.poll} (microseconds) per interval.
   */
  private static final long TOP_UP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** The longest the other lanes wait for a just-assigned partition's first fetch: see perLane. */
  private static final long HOLD_BACK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final KafkaBackend backend;
  private final ConsumerSpec spec;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final ReentrantLock pollLock = new ReentrantLock();
  private final PartitionLeases leases = new PartitionLeases();

  /**
   * Fetched records not handed out yet: a lane per partition that had records, each holding its
   * runs as Kafka returned them. A record becomes a {@link KRecord} in its partition's state only
   * when it is handed out: the poll thread is this subscription's bottleneck, and records waiting
   * here need no state of their own (the committed offset stops at the first of them because {@link
   * PartitionState#nextOffset} has not passed it yet).
   */
  private final ArrayList<Lane> lanes = new ArrayList<>();

  private final java.util.IdentityHashMap<PartitionState, Lane> laneOf =
      new java.util.IdentityHashMap<>();

  /**
   * Where {@link #take} starts looking for the oldest record: after the lane it took the last from.
   */
  private int nextLane;

  /** When {@link #unheard()} last became true ({@code System.nanoTime}), or -1 while false. */
  private long unheardSince = -1;

  /** The records in all {@link #lanes}. */
  private int readyCount;

  /**
   * The records of the {@link #poll} call in progress: leased, not yet returned to the runtime. A
   * rebalance inside that call (in {@code KafkaConsumer.poll}) takes those of the partitions it
   * moves back out ({@link PartitionLeases#withdraw}).
   */
  private List<InboundRecord> handingOut;

  private final long commitIntervalNanos;
  private final int maxPollRecords;

  /** A lane holding this many bytes of keys and values pauses its partition. */
  private final long laneBytes;

  private volatile boolean closed;
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
    Map<String, Object> config = backend.settings.consumer(spec.group(), reset, maxPoll);
    this.laneBytes = laneBytes(config);
    try {
      this.consumer =
          new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    } catch (KafkaException e) {
      throw KafkaErrors.map("creating a Kafka consumer for group " + spec.group(), e);
    }
    consumer.subscribe(List.of(spec.topic()), this);
    awaitFirstAssignment();
  }

  /**
   * One fetch of one partition ({@code max.partition.fetch.bytes}): a lane that takes a whole fetch
   * empties Kafka's buffer of that partition, so the next fetch is under way while the lane hands
   * the records out, and all partitions are read at once without waiting a round trip whenever
   * their fetches run out together.
   */
  private static long laneBytes(Map<String, Object> config) {
    Object v = config.get("max.partition.fetch.bytes");
    if (v == null) {
      return 1024 * 1024; // the client's default
    }
    try {
      return Math.max(1, Long.parseLong(v.toString().trim()));
    } catch (NumberFormatException e) {
      return 1024 * 1024; // the consumer refuses it with its own message
    }
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
        // Heartbeat: keep the membership and rebalances going; fetch no more than a batch per
        // partition ahead.
        adjustPause();
        kafkaPoll(Duration.ZERO);
        maybeCommit();
        return List.of();
      }
      List<InboundRecord> out = new ArrayList<>(Math.min(max, 2048));
      handingOut = out;
      boolean woken = false;
      if (System.nanoTime() - lastKafkaPoll > TOP_UP_NANOS && !allLanesFull()) {
        woken = !fill();
      }
      int perLane = perLane(unheard());
      take(out, max, perLane);
      // Fill the call up from what Kafka has fetched already, without waiting: the runtime hands
      // each call's records to its workers at once, and a hand-over that wakes an idle worker was
      // seen to preempt this thread about once per call; a backlog read in calls of 500 records
      // lost a tenth of its rate to that. Every lane is topped up before the records are taken, so
      // that the call holds every partition's share.
      while (out.size() < max && !closed && !woken) {
        int before = out.size();
        woken = !fill();
        take(out, max, perLane);
        if (out.size() == before) {
          break;
        }
      }
      if (out.isEmpty() && !woken) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!closed) {
          long left = deadline - System.nanoTime();
          adjustPause();
          woken = !kafkaPoll(Duration.ofNanos(Math.max(0, left)));
          if (!woken && readyCount > 0) {
            woken = !fill();
          }
          take(out, max, perLane);
          if (!out.isEmpty() || woken || System.nanoTime() >= deadline) {
            break;
          }
          leases.advanceAll();
          maybeCommit();
        }
      } else if (System.nanoTime() - lastKafkaPoll > IDLE_KAFKA_POLL_NANOS) {
        // Served from the lanes alone: Kafka still needs polling, for rebalances and commits.
        adjustPause();
        kafkaPoll(Duration.ZERO);
      }
      adjustPause();
      maybeCommit();
      return out;
    } finally {
      handingOut = null;
      pollLock.unlock();
    }
  }

  /**
   * How many records each lane may hand out: while a partition just assigned has not had its first
   * fetch back, at most a poll's worth more from each other lane, for at most {@link
   * #HOLD_BACK_NANOS}. Otherwise the first partition to arrive fills the whole room when a member
   * starts, and the others' records, written as early, wait behind it; the bound in time keeps a
   * partition whose fetches fail from stopping the others. A partition whose next fetch is merely
   * under way does not hold the others back: it catches up by the timestamps when it comes.
   */
  private int perLane(boolean unheard) {
    if (!unheard) {
      unheardSince = -1;
      return Integer.MAX_VALUE;
    }
    long now = System.nanoTime();
    if (unheardSince < 0) {
      unheardSince = now;
      for (int i = 0, n = lanes.size(); i < n; i++) {
        lanes.get(i).takenNow = 0;
      }
    }
    return now - unheardSince < HOLD_BACK_NANOS ? maxPollRecords : Integer.MAX_VALUE;
  }

  /** Whether every owned partition's lane holds a fetch's worth (so its fetching is paused). */
  private boolean allLanesFull() {
    if (lanes.size() < leases.states().size()) {
      return false;
    }
    for (int i = 0, n = lanes.size(); i < n; i++) {
      if (lanes.get(i).bytes < laneBytes) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether some owned partition has no record waiting here and Kafka has not said yet how many it
   * has (no fetch of it came back since it was assigned).
   */
  private boolean unheard() {
    for (PartitionState ps : leases.states()) {
      Lane lane = laneOf.get(ps);
      if ((lane == null || lane.count == 0) && consumer.currentLag(ps.tp).isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Tops the lanes up from what Kafka has fetched already, without waiting: polls while a poll
   * brings records, pausing each lane as it fills, at most once per lane and once more. False when
   * a poll was woken up.
   */
  private boolean fill() {
    for (int i = 0; i <= lanes.size() && !closed; i++) {
      adjustPause();
      int before = readyCount;
      if (!kafkaPoll(Duration.ZERO)) {
        return false;
      }
      if (readyCount == before) {
        break;
      }
    }
    return true;
  }

  /**
   * Hands out released records first, then fetched ones, up to {@code max} in all and {@code
   * perLane} from each lane: each time the oldest waiting record of any lane, by its Kafka
   * timestamp.
   */
  private void take(List<InboundRecord> out, int max, int perLane) {
    int before = out.size();
    leases.takeReleased(out, max);
    int n = lanes.size();
    if (nextLane >= n) {
      nextLane = 0; // lanes of revoked partitions went
    }
    while (out.size() < max && readyCount > 0) {
      // The lane whose next record is the oldest; on a tie the first after the last one taken from,
      // so that partitions written at the same moment take turns.
      Lane best = null;
      long bestTime = Long.MAX_VALUE;
      int bestIndex = -1;
      for (int j = 0; j < n; j++) {
        int at = nextLane + j < n ? nextLane + j : nextLane + j - n;
        Lane lane = lanes.get(at);
        Fetched f = lane.runs.peekFirst();
        if (f == null || lane.takenNow >= perLane) {
          continue;
        }
        if (lane.partition.revoked) {
          dropRuns(lane);
          continue;
        }
        long t = f.records.get(f.next).timestamp();
        if (best == null || t < bestTime) {
          best = lane;
          bestTime = t;
          bestIndex = at;
        }
      }
      if (best == null) {
        break;
      }
      nextLane = bestIndex + 1 < n ? bestIndex + 1 : 0;
      Fetched f = best.runs.peekFirst();
      ConsumerRecord<byte[], byte[]> cr = f.records.get(f.next++);
      best.bytes -= size(cr);
      best.count--;
      best.takenNow++;
      readyCount--;
      if (f.next == f.records.size()) {
        best.runs.pollFirst();
      }
      KRecord r = leases.admit(best.partition, cr);
      if (r != null) {
        PartitionLeases.lease(r, out);
      }
    }
    if (out.size() > before) {
      leases.handedOut(); // once per call, not per record
    }
  }

  private static int size(ConsumerRecord<byte[], byte[]> r) {
    return Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
  }

  private void dropRuns(Lane lane) {
    readyCount -= lane.count;
    lane.count = 0;
    lane.bytes = 0;
    lane.runs.clear();
  }

  /** One partition's fetched records not handed out yet, and whether its fetching is paused. */
  private static final class Lane {
    final PartitionState partition;
    final ArrayDeque<Fetched> runs = new ArrayDeque<>();
    int count;

    /** The keys' and values' bytes of the records in {@link #runs}. */
    long bytes;

    /** Records handed out from here since {@link #unheardSince}. */
    int takenNow;

    boolean paused;

    Lane(PartitionState partition) {
      this.partition = partition;
    }
  }

  /**
   * One partition's records from one {@code KafkaConsumer.poll}, handed out from {@link #next} on.
   */
  private static final class Fetched {
    final List<ConsumerRecord<byte[], byte[]>> records;
    int next;

    Fetched(List<ConsumerRecord<byte[], byte[]>> records) {
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
        Lane lane = laneOf.get(ps);
        if (lane == null) {
          lane = new Lane(ps);
          laneOf.put(ps, lane);
          lanes.add(lane);
        }
        lane.runs.add(new Fetched(list));
        lane.count += list.size();
        for (int i = 0, n = list.size(); i < n; i++) {
          lane.bytes += size(list.get(i));
        }
        readyCount += list.size();
      }
    }
    return true;
  }

  /**
   * A partition's fetching stops while a fetch's worth of its records waits here for room in the
   * runtime, so this member holds about two fetches per partition ahead of what it was asked for
   * (this lane and Kafka's buffer); Kafka keeps what it already fetched for paused partitions.
   */
  private void adjustPause() {
    for (int i = 0, n = lanes.size(); i < n; i++) {
      Lane lane = lanes.get(i);
      boolean full = lane.bytes >= laneBytes;
      if (full != lane.paused && !lane.partition.revoked) {
        List<TopicPartition> tp = List.of(lane.partition.tp);
        if (full) {
          consumer.pause(tp);
        } else {
          consumer.resume(tp);
        }
        lane.paused = full;
      }
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
    lanes.removeIf(
        lane -> {
          if (!lane.partition.revoked) {
            return false;
          }
          dropRuns(lane);
          laneOf.remove(lane.partition);
          return true;
        });
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
