package io.polybus.nativelog.internal;

import io.polybus.Message;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.InboundRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One member of a group on a log topic.
 *
 * <h2>Membership</h2>
 *
 * A member is alive while it holds the lock on its file in {@code groups/<group>/members/}; it owns
 * a partition while it holds the lock on {@code groups/<group>/p<n>.lock}. The operating system
 * drops both when the process dies, so a dead member's partitions are free for the others within
 * one rebalance interval. Every {@link #REBALANCE_NANOS} a member counts the live members M and
 * aims at {@code ceil(P / M)} partitions: it takes free ones, and gives up extras only once none of
 * their records is leased (so a key is never in flight at two members).
 *
 * <h2>Progress</h2>
 *
 * Per owned partition, a {@link GroupState} holds the committed offset, the acked records above it,
 * each record's delivery count (raised when it is leased, so deliveries to members that died count)
 * and the due time of records released with a delay. A new owner reads from the committed offset
 * and skips what was acked.
 *
 * <p>Threading: {@link #poll} from one thread; settling from any thread; each owned partition has
 * its own lock.
 */
final class LogMember implements BackendConsumer {
  static final long REBALANCE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long CROSS_PROCESS_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private final NativeLog log;
  private final LogTopic topic;
  private final Path groupDir;
  private final FileLocks.Held memberLock;
  private final Map<Integer, Owned> owned = new TreeMap<>();
  private final ReentrantLock ownedLock = new ReentrantLock();
  private final long stallNanos;
  private volatile boolean closed;
  private volatile boolean wakeup;
  private long lastRebalance;
  private int cursor;

  LogMember(NativeLog log, LogTopic topic, Path groupDir) throws IOException {
    this.log = log;
    this.topic = topic;
    this.groupDir = groupDir;
    this.stallNanos = log.stallTimeoutNanos();
    Path members = groupDir.resolve("members");
    Files.createDirectories(members);
    this.memberLock = FileLocks.tryLock(members.resolve(UUID.randomUUID() + ".member"));
    if (memberLock == null) {
      throw new IllegalStateException("could not lock a fresh member file in " + members);
    }
  }

  /** One owned partition: its lock, durable state, reader and leases. Guarded by {@link #lock}. */
  private final class Owned {
    final int partition;

    /** The partition id of receipts and {@link InboundRecord#partition()}. */
    final String id;

    final FileLocks.Held lock;
    final GroupState state;
    final ReentrantLock guard = new ReentrantLock();
    final PartitionReader reader;
    final Segment.Frame frame = new Segment.Frame();

    /** A frame read but beyond the window: kept until the window moves. */
    boolean pendingFrame;

    /**
     * The offset the next frame should have; a frame above it means the offsets between were never
     * written.
     */
    long nextExpected;

    /**
     * The unsettled lease of each offset, at its {@link GroupState} window slot ({@code offset mod
     * WINDOW}): a leased record is unsettled, so the window (which ends {@code WINDOW} records
     * above the oldest unsettled one) covers it, and no two leased offsets share a slot.
     */
    final Lease[] leased = new Lease[GroupState.WINDOW];

    /** How many slots of {@link #leased} are taken. */
    int leasedCount;

    /** Records given back without delay, by offset. */
    final PriorityQueue<Long> ready = new PriorityQueue<>();

    /** Records given back with a delay: {offset, dueMillis}, by due time. */
    final PriorityQueue<long[]> delayed = new PriorityQueue<>((a, b) -> Long.compare(a[1], b[1]));

    /**
     * Records not leased right now (given back, or due later), by offset, so a redelivery needs no
     * second read: the settled lease, or one made for the record and never handed out.
     */
    final TreeMap<Long, Lease> parked = new TreeMap<>();

    boolean revoking;

    /** The unsettled lease of {@code offset}, or null. */
    Lease leasedAt(long offset) {
      Lease l = leased[GroupState.slot(offset)];
      return l != null && l.offset == offset ? l : null;
    }

    Owned(int partition, FileLocks.Held lock, GroupState state) throws IOException {
      this.partition = partition;
      this.id = Integer.toString(partition);
      this.lock = lock;
      this.state = state;
      this.reader = topic.partitions[partition].readerFrom(state.committed(), stallNanos);
      this.nextExpected = state.committed();
    }
  }

  /**
   * One leased record. It keeps a copy of the frame's body, checked by {@link RecordCodec#check},
   * and decodes it into a {@link Message} only when {@link #message()} is first called: a handler
   * that never reads the message costs no decoding, and its key orders deliveries as raw bytes.
   */
  private final class Lease implements InboundRecord {
    final Owned owner;
    final long offset;
    final byte[] body;
    final long timestampMillis;

    /** Where the key's UTF-8 bytes are in {@link #body}; {@link #keyLength} -1 for no key. */
    final int keyStart;

    final int keyLength;

    final int deliveries;

    /**
     * The decoded message, or null until first read. A race between two threads reading at once
     * decodes twice and keeps either result: both are equal, and a message is immutable.
     */
    private Message message;

    /** Guarded by owner.guard, as is {@link #settled}. */
    boolean settled;

    /**
     * The runtime never handed this lease to a handler: close takes its delivery back out of the
     * count.
     */
    boolean notHandled;

    /**
     * @param keyField where in {@code body} the key's length is, as {@link RecordCodec#check} found
     */
    Lease(
        Owned owner, long offset, byte[] body, long timestampMillis, int keyField, int deliveries) {
      this.owner = owner;
      this.offset = offset;
      this.body = body;
      this.timestampMillis = timestampMillis;
      this.keyStart = keyField + 4;
      this.keyLength = RecordCodec.int32(body, keyField);
      this.deliveries = deliveries;
    }

    /** The same record again, as delivery number {@code deliveries}. */
    Lease(Lease parked, int deliveries) {
      this.owner = parked.owner;
      this.offset = parked.offset;
      this.body = parked.body;
      this.timestampMillis = parked.timestampMillis;
      this.keyStart = parked.keyStart;
      this.keyLength = parked.keyLength;
      this.message = parked.message;
      this.deliveries = deliveries;
    }

    @Override
    public Message message() {
      Message m = message;
      if (m == null) {
        m = RecordCodec.decodeChecked(body, timestampMillis);
        message = m;
      }
      return m;
    }

    @Override
    public Object orderingKey() {
      return keyLength < 0
          ? null
          : io.polybus.spi.RawKey.of(
              java.util.Arrays.copyOfRange(body, keyStart, keyStart + keyLength));
    }

    @Override
    public String partition() {
      return owner.id;
    }

    @Override
    public int deliveryCount() {
      return deliveries;
    }

    @Override
    public void ack() {
      owner.guard.lock();
      try {
        if (settle()) {
          owner.state.ack(offset);
        }
      } finally {
        owner.guard.unlock();
      }
    }

    @Override
    public void release(Duration delay) {
      owner.guard.lock();
      try {
        if (!settle()) {
          return;
        }
        owner.parked.put(offset, this);
        if (delay.isZero() || delay.isNegative()) {
          owner.ready.add(offset);
        } else {
          // Rounded up, plus one: the wall clock ticks in (at best) milliseconds, and the delay is
          // a lower bound.
          long delayMillis = (delay.toNanos() + 999_999) / 1_000_000;
          long due = System.currentTimeMillis() + delayMillis + 1;
          owner.state.setDue(offset, due); // durable: a restart waits too
          owner.delayed.add(new long[] {offset, due});
        }
      } finally {
        owner.guard.unlock();
      }
      topic.wakeAll();
    }

    @Override
    public void recordAttempts(int attempts) {
      owner.guard.lock();
      try {
        if (!settled && !closed) {
          owner.state.atLeast(offset, attempts);
        }
      } finally {
        owner.guard.unlock();
      }
    }

    @Override
    public void markNotHandled() {
      owner.guard.lock();
      try {
        if (!settled && !closed && owner.leasedAt(offset) == this) {
          notHandled = true;
        }
      } finally {
        owner.guard.unlock();
      }
    }

    /** Holds owner.guard. */
    private boolean settle() {
      if (settled || closed || owner.leasedAt(offset) != this) {
        return false;
      }
      settled = true;
      owner.leased[GroupState.slot(offset)] = null;
      owner.leasedCount--;
      return true;
    }
  }

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (closed) {
        return List.of();
      }
      long seen = topic.appendCount();
      try {
        rebalanceIfDue();
      } catch (IOException e) {
        throw log.ioFailure(e, "log " + log.dir + ": rebalancing failed");
      } catch (InternalError e) {
        throw log.mappedAccessFailed(
            topic.name, e); // a segment cut short under its mapping (see Segment)
      }
      if (max <= 0) {
        return List.of();
      }
      if (wakeup) {
        wakeup = false;
        return List.of();
      }
      List<InboundRecord> out = new ArrayList<>();
      ownedLock.lock();
      try {
        Owned[] parts = owned.values().toArray(new Owned[0]);
        for (int i = 0; i < parts.length && out.size() < max; i++) {
          Owned o = parts[(cursor + i) % parts.length];
          fill(o, out, max);
        }
        cursor++;
      } catch (IOException e) {
        throw log.ioFailure(e, "log " + log.dir + ": read failed");
      } catch (InternalError e) {
        throw log.mappedAccessFailed(topic.name, e);
      } finally {
        ownedLock.unlock();
      }
      if (!out.isEmpty()) {
        return out;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return List.of();
      }
      // Appends of this process wake us at once; those of other processes are seen on the next
      // short round.
      topic.awaitAppend(seen, Math.min(left, CROSS_PROCESS_POLL_NANOS));
    }
  }

  /** Leases records of one partition into {@code out}: redeliveries first, then new records. */
  private void fill(Owned o, List<InboundRecord> out, int max) throws IOException {
    o.guard.lock();
    try {
      if (o.revoking) {
        return;
      }
      long now = System.currentTimeMillis();
      while (!o.delayed.isEmpty() && o.delayed.peek()[1] <= now) {
        long off = o.delayed.poll()[0];
        o.state.setDue(off, 0);
        o.ready.add(off);
      }
      while (out.size() < max && !o.ready.isEmpty()) {
        long off = o.ready.poll();
        Lease parked = o.parked.remove(off);
        if (parked != null && !o.state.isAcked(off)) {
          out.add(lease(o, new Lease(parked, o.state.delivered(off))));
        }
      }
      while (out.size() < max) {
        if (!o.pendingFrame) {
          if (o.reader.next(o.frame) != SegmentReader.FRAME) {
            return;
          }
        }
        long off = o.frame.offset;
        // Offsets between the previous frame and this one will never be read: claimed but never
        // committed (a writer
        // died or was revoked), or deleted by retention. They count as settled, or the committed
        // offset could never
        // pass them. When nothing below them is unsettled that is one step, however long the gap.
        long gap = Math.max(o.nextExpected, o.state.committed());
        if (gap < off && gap == o.state.committed()) {
          o.state.skipTo(off);
          gap = off;
        }
        for (; gap < off && gap < o.state.windowEnd(); gap++) {
          o.state.ack(gap);
        }
        o.nextExpected = Math.max(o.nextExpected, gap);
        if (off >= o.state.windowEnd()) {
          o.pendingFrame =
              true; // too far ahead of the oldest unsettled record: wait for it to settle
          return;
        }
        o.pendingFrame = false;
        o.nextExpected = off + 1;
        if (off < o.state.committed() || o.state.isAcked(off)) {
          continue;
        }
        int start = Segment.Frame.bodyStart();
        int keyField; // in the body copied below
        try {
          keyField = RecordCodec.check(o.frame.bytes, start, o.frame.bodyLength) - start;
        } catch (CorruptLogException e) {
          // A frame with a valid CRC but an unreadable body was not written by Polybus: skip it,
          // never deliver it.
          o.state.ack(off);
          continue;
        }
        byte[] body =
            java.util.Arrays.copyOfRange(o.frame.bytes, start, start + o.frame.bodyLength);
        long due = o.state.dueMillis(off);
        if (due > now) {
          // released with a delay before a restart: still waiting
          o.parked.put(off, new Lease(o, off, body, o.frame.timestampMillis, keyField, 0));
          o.delayed.add(new long[] {off, due});
          continue;
        }
        out.add(
            lease(
                o,
                new Lease(
                    o, off, body, o.frame.timestampMillis, keyField, o.state.delivered(off))));
      }
    } finally {
      o.guard.unlock();
    }
  }

  /** Holds o.guard. Makes {@code l} the unsettled lease of its offset. */
  private static Lease lease(Owned o, Lease l) {
    int slot = GroupState.slot(l.offset);
    if (o.leased[slot] != null) {
      throw new IllegalStateException(
          "offsets " + o.leased[slot].offset + " and " + l.offset + " leased at once");
    }
    o.leased[slot] = l;
    o.leasedCount++;
    return l;
  }

  private void rebalanceIfDue() throws IOException {
    long now = System.nanoTime();
    if (now - lastRebalance < REBALANCE_NANOS && !owned.isEmpty()) {
      return;
    }
    lastRebalance = now;
    int partitions = topic.partitions.length;
    int members = liveMembers();
    int share = (partitions + members - 1) / Math.max(1, members);
    ownedLock.lock();
    try {
      // Too many: give up the last `extra` partitions, each once none of its records is leased.
      int extra = owned.size() - share;
      List<Owned> list = new ArrayList<>(owned.values());
      for (int i = 0; i < list.size(); i++) {
        Owned o = list.get(i);
        o.guard.lock();
        try {
          o.revoking = i >= list.size() - extra;
          if (o.revoking && o.leasedCount == 0) {
            owned.remove(o.partition);
            o.state.close();
            o.lock.close();
          }
        } finally {
          o.guard.unlock();
        }
      }
      if (extra >= 0) {
        return;
      }
      int start = Math.floorMod(memberLock.path.hashCode(), partitions);
      for (int i = 0; i < partitions && owned.size() < share; i++) {
        int p = (start + i) % partitions;
        if (owned.containsKey(p)) {
          continue;
        }
        FileLocks.Held lock = FileLocks.tryLock(groupDir.resolve("p" + p + ".lock"));
        if (lock == null) {
          continue;
        }
        try {
          Path stateFile = groupDir.resolve("p" + p + ".state");
          GroupState state;
          try {
            state = GroupState.open(stateFile);
          } catch (IOException e) {
            if (NativeLog.needsFixing(e)) {
              throw log.fault(stateFile, e);
            }
            throw e;
          }
          log.faultCleared(stateFile);
          owned.put(p, new Owned(p, lock, state));
        } catch (IOException | RuntimeException e) {
          lock.close();
          throw e;
        }
      }
    } finally {
      ownedLock.unlock();
    }
  }

  /**
   * Members whose lock is held (by this or another process); stale files of dead members are
   * removed.
   */
  private int liveMembers() throws IOException {
    int n = 0;
    try (DirectoryStream<Path> files =
        Files.newDirectoryStream(groupDir.resolve("members"), "*.member")) {
      for (Path f : files) {
        if (f.toAbsolutePath().normalize().equals(memberLock.path)) {
          n++;
        } else if (FileLocks.isHeld(f)) {
          n++;
        } else {
          Files.deleteIfExists(f);
        }
      }
    }
    return Math.max(1, n);
  }

  @Override
  public void wakeup() {
    wakeup = true;
    topic.wakeAll();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ownedLock.lock();
    try {
      for (Owned o : owned.values()) {
        o.guard.lock();
        try {
          // Unsettled leases stay unacked in the state: the next owner delivers them again, counts
          // kept, but for
          // the deliveries no handler saw. Taken back only now, so a crash before this point still
          // counts them.
          for (Lease l : o.leased) {
            if (l != null && l.notHandled) {
              o.state.undeliver(l.offset, l.deliveries);
            }
          }
          java.util.Arrays.fill(o.leased, null);
          o.leasedCount = 0;
          o.state.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } finally {
          o.lock.close();
          o.guard.unlock();
        }
      }
      owned.clear();
    } finally {
      ownedLock.unlock();
      memberLock.close();
      try {
        Files.deleteIfExists(memberLock.path);
      } catch (IOException e) {
        // a stale member file is cleaned up by the next live-member count
      }
      topic.wakeAll();
    }
  }
}
