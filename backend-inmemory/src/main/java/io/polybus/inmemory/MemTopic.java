package io.polybus.inmemory;

import io.polybus.ConsumerLag;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.StartFrom;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.Messages;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One topic: an append-only log of messages, and its groups with their members and leases.
 *
 * <p>Everything is guarded by one lock per topic; critical sections are short (an append, a batch
 * of leases, one settlement). Consumers of every group wait on one condition, signalled only when
 * somebody waits.
 *
 * <h2>Groups</h2>
 *
 * A group has a cursor into the log (the next message it has never seen), a queue of messages given
 * back to it ({@code ready}, by offset, redelivered before anything newer), and a queue of messages
 * released with a delay ({@code delayed}, by due time). A member leases messages from its private
 * queue, then {@code ready}, then the log. Every lease is in its member's outstanding list until
 * settled; closing a member gives every outstanding lease back to {@code ready}.
 *
 * <h2>Key ownership</h2>
 *
 * For members that ask for {@link Ordering#KEY}, a key is owned by the member holding unsettled
 * messages of it; a message of an owned key that another member comes across goes to the owner's
 * private queue instead, so one key is never in flight at two members and reaches its owner in log
 * order.
 *
 * <h2>Retention</h2>
 *
 * The log keeps the newest {@code retention} messages for replay, and never discards a message some
 * group has not settled. Whole chunks are dropped, never single messages.
 */
final class MemTopic {
  private static final int CHUNK_BITS = 12;
  private static final int CHUNK = 1 << CHUNK_BITS;
  private static final int MASK = CHUNK - 1;

  final String name;
  private final long retention;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private int waiters;

  private final ArrayList<Message[]> chunks = new ArrayList<>();
  private long firstChunkBase;
  private long next;
  private final HashMap<String, Group> groups = new HashMap<>();
  private boolean discarded;

  /**
   * Messages published with a deliver-at time still ahead, by due time (then publish order): each
   * is appended to the log when it comes due, as if published then, so it holds back no later
   * message of its key. Members release them as they poll, and bound their waits by the first.
   */
  private final PriorityQueue<Scheduled> scheduled =
      new PriorityQueue<>(
          Comparator.comparingLong(Scheduled::dueMillis).thenComparingLong(Scheduled::seq));

  private long scheduledSeq;

  private record Scheduled(long dueMillis, long seq, Message message) {}

  /**
   * Acks waiting to be applied: a lock-free stack linked through {@link Lease#nextAcked}. An ack
   * pushes itself and applies the stack if the lock is free; whoever releases the lock applies what
   * was pushed meanwhile, so no ack is stranded and a handler thread never parks on the topic lock
   * to ack.
   */
  private final AtomicReference<Lease> acked = new AtomicReference<>();

  MemTopic(String name, long retention) {
    this.name = name;
    this.retention = retention;
  }

  // ---------------------------------------------------------------- locking

  private void unlock() {
    lock.unlock();
    if (acked.get() != null) {
      applyAcksIfFree();
    }
  }

  private void applyAcksIfFree() {
    while (acked.get() != null && lock.tryLock()) {
      try {
        applyAcks();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Settles every pushed ack. Holds the lock. */
  private void applyAcks() {
    Lease l = acked.getAndSet(null);
    while (l != null) {
      Lease n = l.nextAcked;
      l.nextAcked = null;
      l.settle();
      l = n;
    }
  }

  // ---------------------------------------------------------------- log

  /** Appends in order; returns the offset of the first message. */
  long append(List<Message> messages) {
    lock.lock();
    try {
      long first = next;
      for (Message m : messages) {
        appendOne(m);
      }
      if (waiters > 0) {
        changed.signalAll();
      }
      return first;
    } finally {
      unlock();
    }
  }

  /**
   * Publishes in order, each message either appended or, when its deliver-at time is ahead,
   * scheduled; returns each one's offset, or -1 for a scheduled one (its offset is known only when
   * it comes due).
   */
  long[] appendOrSchedule(List<Message> messages, long nowMillis) {
    lock.lock();
    try {
      long[] offsets = new long[messages.size()];
      for (int i = 0; i < offsets.length; i++) {
        Message m = messages.get(i);
        long delay = Messages.delayMillis(m, nowMillis);
        if (delay > 0) {
          scheduled.add(new Scheduled(nowMillis + delay, scheduledSeq++, m));
          offsets[i] = -1;
        } else {
          offsets[i] = next;
          appendOne(m);
        }
      }
      if (waiters > 0) {
        changed.signalAll(); // a waiting member bounds its wait by the first due time
      }
      return offsets;
    } finally {
      unlock();
    }
  }

  /** Appends the scheduled messages due by {@code nowMillis}. Holds the lock. */
  private void releaseDue(long nowMillis) {
    Scheduled s;
    boolean any = false;
    while ((s = scheduled.peek()) != null && s.dueMillis <= nowMillis) {
      scheduled.poll();
      appendOne(s.message);
      any = true;
    }
    if (any && waiters > 0) {
      changed.signalAll();
    }
  }

  /** Holds the lock. */
  private void appendOne(Message m) {
    int slot = (int) (next - firstChunkBase);
    int chunk = slot >>> CHUNK_BITS;
    if (chunk == chunks.size()) {
      chunks.add(new Message[CHUNK]);
      trim();
    }
    chunks.get((int) (next - firstChunkBase) >>> CHUNK_BITS)[(int) (next & MASK)] = m;
    next++;
  }

  private Message at(long offset) {
    int slot = (int) (offset - firstChunkBase);
    return chunks.get(slot >>> CHUNK_BITS)[(int) (offset & MASK)];
  }

  /**
   * The offset of the first retained message stamped at or after {@code millis}; the end when there
   * is none.
   */
  private long firstAtOrAfter(long millis) {
    for (long o = firstChunkBase; o < next; o++) {
      Message m = at(o);
      if (m != null && m.timestampMillis() >= millis) {
        return o;
      }
    }
    return next;
  }

  /** Drops leading chunks that are beyond retention and settled by every group. */
  private void trim() {
    if (chunks.size()
        < 8) { // asking the groups costs a walk over their leases: do it every few chunks
      return;
    }
    long keepFrom = next - retention;
    if (firstChunkBase + CHUNK > keepFrom) {
      return; // within retention: no need to ask the groups
    }
    for (Group g : groups.values()) {
      keepFrom = Math.min(keepFrom, g.lowWater());
    }
    while (chunks.size() > 1 && firstChunkBase + CHUNK <= keepFrom) {
      chunks.remove(0);
      firstChunkBase += CHUNK;
    }
  }

  void discard() {
    lock.lock();
    try {
      discarded = true;
      chunks.clear();
      scheduled.clear();
      groups.clear();
      changed.signalAll();
    } finally {
      unlock();
    }
  }

  // ---------------------------------------------------------------- groups

  void ensureGroup(String group, StartFrom startFrom) {
    lock.lock();
    try {
      group(group, startFrom);
    } finally {
      unlock();
    }
  }

  private Group group(String group, StartFrom startFrom) {
    Group g = groups.get(group);
    if (g == null) {
      long start =
          switch (startFrom.kind()) {
            case EARLIEST -> firstChunkBase;
            case LATEST -> next;
            case TIMESTAMP -> firstAtOrAfter(startFrom.timestampMillis());
            case OFFSET -> Math.min(next, Math.max(firstChunkBase, startFrom.offset()));
          };
      g = new Group(group, start);
      groups.put(group, g);
    }
    return g;
  }

  /**
   * The messages {@code group} has not settled: those past its cursor, given back (ready or
   * delayed), leased by a member or queued for a key's owner; and the age of the oldest of them.
   * Exact: read under the lock after the pending acks are applied. A group this topic has never
   * seen has none (a new group starts at the tail unless it asks otherwise).
   */
  ConsumerLag lag(String group, Instant now) {
    lock.lock();
    try {
      applyAcks();
      Group g = groups.get(group);
      if (g == null) {
        return ConsumerLag.of(name, group, 0, null, ConsumerLag.Accuracy.EXACT, now);
      }
      long n = (next - g.cursor) + g.ready.size() + g.delayed.size();
      for (Member m : g.members) {
        for (Lease l = m.head.next; l != m.head; l = l.next) {
          n++;
        }
        n += m.privateQueue.size();
      }
      Duration age = null;
      if (n > 0) {
        Message oldest = at(g.lowWater());
        if (oldest != null) {
          age = Duration.ofMillis(now.toEpochMilli() - oldest.timestampMillis());
        }
      }
      return ConsumerLag.of(name, group, n, age, ConsumerLag.Accuracy.EXACT, now);
    } finally {
      unlock();
    }
  }

  Member join(ConsumerSpec spec) {
    lock.lock();
    try {
      if (discarded) {
        throw new IllegalStateException("the in-memory broker was discarded");
      }
      Group g = group(spec.group(), spec.startFrom());
      Member m = new Member(g, spec.ordering() == Ordering.KEY);
      g.members.add(m);
      if (m.keyed && ++g.keyedMembers == 2) {
        g.trackOwners();
      }
      return m;
    } finally {
      unlock();
    }
  }

  private static final Comparator<Lease> BY_OFFSET = Comparator.comparingLong(l -> l.offset);
  private static final Comparator<Lease> BY_DUE = Comparator.comparingLong(l -> l.dueNanos);

  /** One group of this topic. Guarded by the topic lock. */
  final class Group {
    final String name;
    long cursor;
    final PriorityQueue<Lease> ready = new PriorityQueue<>(BY_OFFSET);
    final PriorityQueue<Lease> delayed = new PriorityQueue<>(BY_DUE);
    final HashMap<String, Owner> owners = new HashMap<>();
    final ArrayList<Member> members = new ArrayList<>();

    /**
     * Members asking for KEY ordering. Key ownership is only tracked while there are two or more: a
     * lone member cannot race itself, and skipping the table is most of the cost of a lease.
     */
    int keyedMembers;

    /** A second keyed member joined: record who owns the keys already in flight. */
    void trackOwners() {
      for (Member m : members) {
        if (!m.keyed) {
          continue;
        }
        for (Lease l = m.head.next; l != m.head; l = l.next) {
          own(m, l);
        }
        for (Lease l : m.privateQueue) {
          own(m, l);
        }
      }
    }

    private void own(Member m, Lease l) {
      String key = l.message.key();
      if (key != null && !l.owned) {
        owners.computeIfAbsent(key, k -> new Owner(m)).count++;
        l.owned = true;
      }
    }

    /** Down to one keyed member: nobody to race, stop tracking. */
    void untrackOwners() {
      owners.clear();
      for (Member m : members) {
        for (Lease l = m.head.next; l != m.head; l = l.next) {
          l.owned = false;
        }
        for (Lease l : m.privateQueue) {
          l.owned = false;
        }
      }
    }

    Group(String name, long cursor) {
      this.name = name;
      this.cursor = cursor;
    }

    /** The lowest offset this group has not settled. */
    long lowWater() {
      long low = cursor;
      for (Lease l : ready) {
        low = Math.min(low, l.offset);
      }
      for (Lease l : delayed) {
        low = Math.min(low, l.offset);
      }
      for (Member m : members) {
        for (Lease l = m.head.next; l != m.head; l = l.next) {
          low = Math.min(low, l.offset);
        }
        for (Lease l : m.privateQueue) {
          low = Math.min(low, l.offset);
        }
      }
      return low;
    }

    void promoteDue(long now) {
      Lease l;
      while ((l = delayed.peek()) != null && l.dueNanos - now <= 0) {
        delayed.poll();
        ready.add(l);
      }
    }
  }

  /** The member holding unsettled messages of one key, and how many. */
  static final class Owner {
    final Member member;
    int count;

    Owner(Member member) {
      this.member = member;
    }
  }

  // ---------------------------------------------------------------- members

  /** One member of a group. Guarded by the topic lock except {@link #wakeup}. */
  final class Member {
    final Group group;
    final boolean keyed;
    final ArrayDeque<Lease> privateQueue = new ArrayDeque<>();

    /** Sentinel of the circular list of outstanding leases. */
    final Lease head = new Lease(this);

    boolean closed;
    volatile boolean wakeup;

    Member(Group group, boolean keyed) {
      this.group = group;
      this.keyed = keyed;
    }

    List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      lock.lockInterruptibly();
      try {
        applyAcks();
        while (true) {
          if (closed || discarded || max <= 0) {
            return List.of();
          }
          if (wakeup) {
            wakeup = false;
            return List.of();
          }
          long now = System.nanoTime();
          if (!scheduled.isEmpty()) {
            releaseDue(System.currentTimeMillis());
          }
          group.promoteDue(now);
          ArrayList<InboundRecord> out = null;
          Lease l;
          while ((out == null || out.size() < max) && (l = privateQueue.poll()) != null) {
            activate(l);
            (out == null ? out = new ArrayList<>(Math.min(max, 256)) : out).add(l);
          }
          while ((out == null || out.size() < max) && (l = group.ready.poll()) != null) {
            // A delivery its closing member never handed to a handler is taken back out of the
            // count.
            int counted = l.notHandled ? l.deliveries - 1 : l.deliveries;
            Lease fresh = new Lease(l.offset, l.message, Math.max(counted, l.recorded));
            if (assign(fresh)) {
              (out == null ? out = new ArrayList<>(Math.min(max, 256)) : out).add(fresh);
            }
          }
          while ((out == null || out.size() < max) && group.cursor < next) {
            long offset = group.cursor++;
            Lease fresh = new Lease(offset, at(offset), 0);
            if (assign(fresh)) {
              if (out == null) {
                // sized for every fresh record it may take: no copying as it grows
                out = new ArrayList<>((int) Math.min(max, next - offset));
              }
              out.add(fresh);
            }
          }
          if (out != null) {
            return out;
          }
          long wait = deadline - now;
          Lease due = group.delayed.peek();
          if (due != null) {
            wait = Math.min(wait, due.dueNanos - now);
          }
          Scheduled first = scheduled.peek();
          if (first != null) {
            // Rounded up: waking a millisecond early would only find it not yet due.
            long ms = first.dueMillis - System.currentTimeMillis() + 1;
            wait = Math.min(wait, TimeUnit.MILLISECONDS.toNanos(Math.max(ms, 1)));
          }
          if (wait <= 0) {
            if (deadline - now <= 0) {
              return List.of();
            }
            continue;
          }
          waiters++;
          try {
            changed.awaitNanos(wait);
          } finally {
            waiters--;
          }
        }
      } finally {
        unlock();
      }
    }

    /**
     * Leases {@code l} to this member, or hands it to the member that owns its key. Returns true
     * when leased here.
     */
    private boolean assign(Lease l) {
      String key = l.message.key();
      if (keyed && key != null && group.keyedMembers > 1) {
        Owner o = group.owners.get(key);
        if (o == null) {
          o = new Owner(this);
          group.owners.put(key, o);
        } else if (o.member != this) {
          o.count++;
          l.owned = true;
          o.member.privateQueue.add(l);
          changed.signalAll(); // the owner may be waiting for exactly this
          return false;
        }
        o.count++;
        l.owned = true;
      }
      activate(l);
      return true;
    }

    private void activate(Lease l) {
      l.deliveries++;
      l.member = this;
      l.prev = head.prev;
      l.next = head;
      head.prev.next = l;
      head.prev = l;
    }

    void wakeup() {
      wakeup = true;
      lock.lock();
      try {
        changed.signalAll();
      } finally {
        unlock();
      }
    }

    void close() {
      lock.lock();
      try {
        if (closed) {
          return;
        }
        applyAcks(); // acks made before close count
        closed = true;
        for (Lease l = head.next; l != head; l = l.next) {
          l.settled = true;
          disown(l, group);
          group.ready.add(l);
        }
        head.next = head;
        head.prev = head;
        for (Lease l : privateQueue) {
          disown(l, group);
          group.ready.add(l);
        }
        privateQueue.clear();
        group.members.remove(this);
        if (keyed && --group.keyedMembers == 1) {
          group.untrackOwners();
        }
        changed.signalAll();
      } finally {
        unlock();
      }
    }
  }

  /** Gives up the key ownership {@code l} counts for, if any. */
  private static void disown(Lease l, Group g) {
    if (l.owned) {
      l.owned = false;
      String key = l.message.key();
      HashMap<String, Owner> owners = g.owners;
      Owner o = owners.get(key);
      if (o != null && --o.count == 0) {
        owners.remove(key);
      }
    }
  }

  // ---------------------------------------------------------------- leases

  /**
   * A message of a group: pending (in a private queue, not yet handed out), leased to a member (in
   * its outstanding list), or given back (in the group's ready or delayed queue, then copied into a
   * fresh lease). Only leased instances are seen by the runtime, and each is settled at most once.
   */
  final class Lease implements InboundRecord {
    final long offset;
    final Message message;

    /** Deliveries so far, this one included once leased. */
    int deliveries;

    /** Attempts the runtime noted while retrying in place. */
    int recorded;

    /**
     * The runtime never handed this delivery to a handler: when its member closes, it does not
     * count.
     */
    boolean notHandled;

    Member member;
    Lease prev;
    Lease next;
    boolean settled;
    boolean owned;
    long dueNanos;

    /** Link in the stack of pushed acks; see {@link MemTopic#acked}. */
    Lease nextAcked;

    Lease(long offset, Message message, int deliveries) {
      this.offset = offset;
      this.message = message;
      this.deliveries = deliveries;
    }

    /** A sentinel. */
    Lease(Member member) {
      this.offset = -1;
      this.message = null;
      this.member = member;
      this.prev = this;
      this.next = this;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int deliveryCount() {
      return deliveries;
    }

    /**
     * Unlinks a live lease; false when it was settled already or its member closed. Holds the lock.
     */
    boolean settle() {
      if (settled || member.closed) {
        return false;
      }
      settled = true;
      prev.next = next;
      next.prev = prev;
      disown(this, member.group);
      return true;
    }

    @Override
    public void ack() {
      Lease head;
      do {
        head = acked.get();
        nextAcked = head;
      } while (!acked.compareAndSet(head, this));
      applyAcksIfFree();
    }

    @Override
    public void release(Duration delay) {
      lock.lock();
      try {
        if (!settle()) {
          return;
        }
        Group g = member.group;
        if (delay.isZero() || delay.isNegative()) {
          g.ready.add(this);
        } else {
          dueNanos = System.nanoTime() + Math.min(delay.toNanos(), TimeUnit.DAYS.toNanos(1));
          g.delayed.add(this);
        }
        if (waiters > 0) {
          changed.signalAll();
        }
      } finally {
        unlock();
      }
    }

    @Override
    public void recordAttempts(int attempts) {
      lock.lock();
      try {
        recorded = Math.max(recorded, attempts);
      } finally {
        unlock();
      }
    }

    @Override
    public void markNotHandled() {
      lock.lock();
      try {
        if (!settled && !member.closed) {
          notHandled = true;
        }
      } finally {
        unlock();
      }
    }

    @Override
    public String toString() {
      return "mem:" + name + "@" + offset;
    }
  }
}
