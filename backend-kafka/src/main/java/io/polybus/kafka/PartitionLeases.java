package io.polybus.kafka;

import io.polybus.Message;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The leases of one {@link KafkaMember}: the partitions it owns, the records it handed out of each,
 * and the offset commits that follow from their settlement, with what an offset cannot say carried
 * in the commit metadata. Knows nothing of the {@code KafkaConsumer}: the member fetches, commits
 * and rebalances, this decides what to commit.
 *
 * <h2>Leases on a log</h2>
 *
 * Kafka only remembers "everything before offset O of a partition is done". The runtime acks
 * records out of order (records of other keys finish first, a failing record waits for its retry),
 * so each owned partition keeps the records it handed out in offset order ({@link
 * PartitionState#records}); an acked head is dropped, and the committed offset is the first record
 * not acked yet (when all are, the first not handed out). What the offset cannot say (acked records
 * after it, delivery counts of records handed out but not settled) goes into the commit's metadata
 * string ({@link CommitMetadata}), so a member that takes the partition over skips the acked ones
 * and continues the attempt counts ({@link #resume}, {@link #admit}).
 *
 * <h2>Delivery counts</h2>
 *
 * A record's count is its deliveries to the group, including those before the partition came here.
 * A lease adds one to the larger of that count and the attempts the runtime recorded ({@link
 * KRecord#recordAttempts}). Two leases do not count: one the runtime never saw (taken back out of
 * the poll call in progress by a rebalance, {@link #withdraw}) is undone; one no handler was
 * started for ({@link KRecord#markNotHandled}, while the subscription closes) is left out of the
 * count the commit carries, so the next owner's delivery has this one's count ({@link
 * KRecord#countedDeliveries}).
 *
 * <h2>Threads</h2>
 *
 * Everything here belongs to the member's poll thread, whichever thread holds the member's poll
 * lock (its poll, the rebalance callbacks inside {@code KafkaConsumer.poll}, its close), except
 * what the settling calls of a record ({@link KRecord#ack()} etc.) touch from any thread: a
 * record's {@code state}, {@code attempts} and {@code notHandled}, {@link #released}, {@link
 * #metadataDirty}, {@link #closed} and a partition's {@code revoked} (all volatile or concurrent).
 * Settling calls are ignored once the leases are closed or the record's partition is revoked.
 */
final class PartitionLeases {
  private final Map<TopicPartition, PartitionState> owned = new HashMap<>();

  /** Records given back with {@code release}: handed out again first ({@link #takeReleased}). */
  private final ConcurrentLinkedQueue<KRecord> released = new ConcurrentLinkedQueue<>();

  /**
   * Some delivery state changed that the next commit's metadata must carry, even if the offset did
   * not move.
   */
  private volatile boolean metadataDirty;

  private volatile boolean closed;

  // ---------------------------------------------------------------- partitions

  /** Starts owning {@code tp}, position unknown until {@link #resume} or {@link #place}. */
  PartitionState assign(TopicPartition tp) {
    PartitionState ps = new PartitionState(tp);
    owned.put(tp, ps);
    return ps;
  }

  /** The state of an owned partition, or null. */
  PartitionState get(TopicPartition tp) {
    return owned.get(tp);
  }

  /** The states of the owned partitions (a live view). */
  Collection<PartitionState> states() {
    return owned.values();
  }

  boolean isEmpty() {
    return owned.isEmpty();
  }

  /**
   * Continues where the group's commit left {@code ps}: its offset, and the delivery state in its
   * metadata.
   */
  void resume(PartitionState ps, OffsetAndMetadata committed) {
    ps.nextOffset = committed.offset();
    ps.priors = CommitMetadata.parse(committed.offset(), committed.metadata());
    ps.lastCommitted = committed;
  }

  /**
   * Starts {@code ps}, which the group has no commit for, at {@code position}; returns the commit
   * that fixes it.
   */
  OffsetAndMetadata place(PartitionState ps, long position) {
    ps.nextOffset = position;
    ps.lastCommitted = new OffsetAndMetadata(position, "");
    return ps.lastCommitted;
  }

  /** Stops owning {@code partitions}: settling calls of their records are ignored from now on. */
  void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      PartitionState ps = owned.remove(tp);
      if (ps != null) {
        ps.revoked = true;
      }
    }
  }

  /** Settling calls from now on are ignored; the state stays readable for a last commit. */
  void close() {
    closed = true;
  }

  boolean isClosed() {
    return closed;
  }

  /** Marks every owned partition revoked, after the last commit of a close. */
  void revokeAll() {
    for (PartitionState ps : owned.values()) {
      ps.revoked = true;
    }
  }

  // ---------------------------------------------------------------- handing out

  /**
   * The state of a fetched record about to be handed out, in its partition's offset order; null
   * when it needs no delivery (fetched again after a seek, or acked before the partition moved
   * here: a gap in {@link PartitionState#records}, committed past like any other).
   */
  KRecord admit(PartitionState ps, ConsumerRecord<byte[], byte[]> cr) {
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

  /** Leases {@code r} (counting a delivery) and adds it to the poll call's {@code out}. */
  static void lease(KRecord r, List<InboundRecord> out) {
    r.deliveriesBeforeLease = r.deliveries;
    r.deliveries = Math.max(r.deliveries, r.attempts) + 1;
    // Plain: the runtime receives the record through a queue (a happens-before edge) before anyone
    // settles it.
    KRecord.STATE.set(r, KRecord.LEASED);
    out.add(r);
  }

  /**
   * Leases released records again, up to {@code out} holding {@code max}; those of revoked
   * partitions are dropped.
   */
  void takeReleased(List<InboundRecord> out, int max) {
    KRecord r;
    while (out.size() < max && (r = released.poll()) != null) {
      if (!r.partition.revoked && r.state == KRecord.RELEASED) {
        lease(r, out);
      }
    }
  }

  /**
   * A poll call handed records out: their counts go into the next commit. Called once per call, not
   * per record: a volatile write per record costs the poll thread a fence each.
   */
  void handedOut() {
    metadataDirty = true;
  }

  /**
   * Takes the records of {@code partitions} out of the poll call in progress ({@code out}), as if
   * never leased: the runtime has not seen them, so waiting for it to settle them would only run
   * out the rebalance timeout, and the next owner delivers them with the delivery counts they had.
   */
  static void withdraw(List<InboundRecord> out, Collection<TopicPartition> partitions) {
    if (out == null || out.isEmpty()) {
      return;
    }
    out.removeIf(
        x -> {
          KRecord r = (KRecord) x;
          if (!partitions.contains(r.partition.tp)) {
            return false;
          }
          r.deliveries = r.deliveriesBeforeLease;
          KRecord.STATE.set(r, KRecord.READY);
          return true;
        });
  }

  /** Whether the runtime still holds a record of {@code states}. */
  static boolean anyLeased(Collection<PartitionState> states) {
    for (PartitionState ps : states) {
      for (KRecord r : ps.records) {
        if (r.state == KRecord.LEASED) {
          return true;
        }
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- commits

  /** Drops acked records from the head of every owned partition. */
  void advanceAll() {
    for (PartitionState ps : owned.values()) {
      ps.advance();
    }
  }

  /**
   * The commits that would change what the group has stored, for the given partitions, each
   * recorded as the partition's last commit. Unless {@code all}, a partition whose offset did not
   * move is left out while no delivery state changed ({@link #metadataDirty}) and none of its
   * records was acked since its last commit ({@link PartitionState#ackedSinceCommit}): an ack
   * behind an unsettled record is committed, in the metadata, at the next interval, so the group's
   * stored state (and the consumer lag read from it) follows the acks within a commit interval.
   */
  Map<TopicPartition, OffsetAndMetadata> pendingCommits(
      Collection<PartitionState> states, boolean all) {
    boolean withMetadata = metadataDirty;
    metadataDirty = false;
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (PartitionState ps : states) {
      ps.advance();
      if (ps.nextOffset < 0) {
        continue; // position unknown: nothing fetched, nothing to say
      }
      // Cleared before the states are read: an ack racing with this commit sets it again.
      boolean acked = ps.ackedSinceCommit;
      if (acked) {
        ps.ackedSinceCommit = false;
      }
      long offset = ps.records.isEmpty() ? ps.nextOffset : ps.records.peekFirst().offset;
      if (!all
          && !withMetadata
          && !acked
          && ps.lastCommitted != null
          && ps.lastCommitted.offset() == offset) {
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

  /**
   * An asynchronous commit of {@code partitions} failed: send it again next time, or the group
   * stays behind.
   */
  void commitFailed(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      PartitionState ps = owned.get(tp);
      if (ps != null) {
        ps.lastCommitted = null;
      }
    }
  }

  // ---------------------------------------------------------------- state

  /**
   * One owned partition. Owned by the poll thread, except {@link #revoked} (read by settling
   * threads).
   */
  static final class PartitionState {
    final TopicPartition tp;

    /** The partition id of receipts and {@link InboundRecord#partition()}. */
    final String id;

    /**
     * A record of this partition was acked since the last commit was computed. Set by settling
     * threads (read first, so that a burst of acks writes the line once), cleared by the poll
     * thread in {@link #pendingCommits}.
     */
    volatile boolean ackedSinceCommit;

    /**
     * Records handed out and not yet committed past, in offset order (gaps: records acked or never
     * there).
     */
    final ArrayDeque<KRecord> records = new ArrayDeque<>();

    /** Delivery state restored from the commit metadata, for offsets not fetched yet. */
    TreeMap<Long, Integer> priors = new TreeMap<>();

    /** The offset after the last record handed out or skipped; -1 until known. */
    long nextOffset = -1;

    OffsetAndMetadata lastCommitted;
    volatile boolean revoked;

    PartitionState(TopicPartition tp) {
      this.tp = tp;
      this.id = Integer.toString(tp.partition());
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
   * One fetched record, and its lease while handed out. {@link #state}, {@link #attempts} and
   * {@link #notHandled} are written by settling threads; everything else by the poll thread.
   */
  static final class KRecord implements InboundRecord {
    static final int READY = 0;
    static final int LEASED = 1;
    static final int ACKED = 2;
    static final int RELEASED = 3;
    static final java.lang.invoke.VarHandle STATE;

    static {
      try {
        STATE =
            java.lang.invoke.MethodHandles.lookup()
                .findVarHandle(KRecord.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final PartitionLeases leases;
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

    KRecord(
        PartitionLeases leases,
        PartitionState partition,
        ConsumerRecord<byte[], byte[]> raw,
        int prior) {
      this.leases = leases;
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

    /**
     * The key's bytes as fetched: routing a record by key decodes neither the key nor the message.
     */
    @Override
    public Object orderingKey() {
      return io.polybus.spi.RawKey.of(raw.key());
    }

    @Override
    public String partition() {
      return partition.id;
    }

    @Override
    public int deliveryCount() {
      return deliveries;
    }

    @Override
    public void ack() {
      if (!leases.closed && !partition.revoked) {
        state = ACKED; // volatile: the poll thread sees it in advance(), then commits past it
        if (!partition.ackedSinceCommit) {
          partition.ackedSinceCommit = true;
        }
      }
    }

    @Override
    public void release(Duration delay) {
      if (!leases.closed && !partition.revoked) {
        state = RELEASED;
        leases.released.add(this);
        leases.metadataDirty = true;
      }
    }

    @Override
    public void recordAttempts(int n) {
      if (n > attempts && !leases.closed && !partition.revoked) {
        attempts = n;
        leases.metadataDirty = true;
      }
    }

    @Override
    public void markNotHandled() {
      if (!leases.closed && !partition.revoked) {
        notHandled =
            true; // read by the close's commit, which carries the count without this delivery
      }
    }

    /**
     * The deliveries the commit metadata carries for this unacked record: the latest lease is left
     * out when no handler saw it, so the next owner's delivery has this one's count.
     */
    int countedDeliveries() {
      int counted = Math.max(deliveries, attempts);
      return notHandled && state == LEASED ? Math.max(deliveriesBeforeLease, attempts) : counted;
    }
  }
}
