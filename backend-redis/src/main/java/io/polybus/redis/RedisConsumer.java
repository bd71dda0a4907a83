package io.polybus.redis;

import io.polybus.Message;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.Response;

/**
 * One member of a group: a consumer of the group on the topic's stream (or on the partition streams
 * it holds).
 *
 * <p>Each poll, in this order: takes over the pending entries of partitions it just acquired
 * (partitioned mode), moves due delayed retries to itself, reclaims entries idle for {@code
 * ackTimeout} at dead members (unpartitioned mode), then reads new entries with {@code XREADGROUP
 * ... BLOCK} (at most 100 ms at a time, so that {@link #wakeup()} and close are noticed quickly).
 * Work done for liveness (lease renewal, touching the entries it holds so that no one reclaims them
 * from a slow but live member) runs from poll too, also when {@code max} is 0.
 *
 * <p>Threading as {@link BackendConsumer} says: poll on one thread; wakeup, close and the records'
 * settling methods from any thread.
 */
final class RedisConsumer implements BackendConsumer {
  private static final System.Logger LOG = System.getLogger(RedisConsumer.class.getName());
  private static final long BLOCK_SLICE_MS = 100;
  private static final long MOVE_DUE_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private enum Lease {
    NONE,
    TAKEOVER,
    OWNED,
    RELEASING
  }

  private final RedisBackend backend;
  private final RedisSettings settings;
  final String group;
  final String name;
  private final String topic;
  private final boolean partitioned;
  private final String[] streams;
  private final byte[][] streamBytes;
  private final long ackTimeoutMs;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean woken = new AtomicBoolean();

  // Partitioned mode: the lease state of each partition, takeover cursors, and records held per
  // partition.
  private final Lease[] lease;
  private final String[] cursor;
  private final AtomicInteger[] held;

  /** Records handed to the runtime and not settled yet (identity set: cheap on the hot path). */
  private final java.util.Set<Record> heldRecords =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Set when a round trip failed: a reply lost on the way may have left entries pending here that
   * nobody holds.
   */
  private boolean recoverOwn;

  private long nextLeaseWork;
  private int rotation;

  // Unpartitioned mode: where the reclaim scan goes on, and when liveness work is next due.
  private String reclaimCursor = "-";
  private long nextReclaim;
  private long nextTouch;
  private long nextMoveDue;

  /** When {@link #releaseScheduled} next runs. */
  private long nextRelease;

  /** The most scheduled messages one release adds to one stream (the rest at the next). */
  private static final int RELEASE_BATCH = 256;

  // A reply topic's keys expire unless this member keeps refreshing them (see isReplyTopic).
  private final boolean replyTopic;
  private long nextReplyTtl;

  RedisConsumer(RedisBackend backend, ConsumerSpec spec) {
    this.backend = backend;
    this.settings = backend.settings;
    this.topic = spec.topic();
    this.group = spec.group();
    this.name = "m-" + UUID.randomUUID().toString().substring(0, 13);
    this.partitioned = settings.partitions() > 0;
    int n = settings.streamCount();
    this.streams = new String[n];
    this.streamBytes = new byte[n][];
    for (int i = 0; i < n; i++) {
      streams[i] = settings.stream(topic, i);
      streamBytes[i] = EntryLayout.bytes(streams[i]);
    }
    this.ackTimeoutMs = Math.max(1, spec.ackTimeout().toMillis());
    this.lease = new Lease[n];
    this.cursor = new String[n];
    this.held = new AtomicInteger[n];
    for (int i = 0; i < n; i++) {
      lease[i] = partitioned ? Lease.NONE : Lease.OWNED;
      held[i] = new AtomicInteger();
    }
    long now = System.nanoTime();
    this.nextLeaseWork = now;
    this.nextReclaim = now;
    this.nextTouch = now + TimeUnit.MILLISECONDS.toNanos(ackTimeoutMs / 3);
    this.nextMoveDue = now;
    this.replyTopic = RedisSettings.isReplyTopic(topic);
    this.nextReplyTtl = now;
  }

  /**
   * {@code PEXPIRE} on the reply topic's streams and this group's delayed sets: a requester that
   * dies without closing leaves them for at most {@link RedisSettings#REPLY_TTL}. {@code XADD} and
   * {@code XGROUP} keep a key's TTL, so one refresh per {@link RedisSettings#REPLY_TTL_REFRESH} is
   * all it costs. A key that does not exist (yet) is skipped by Redis.
   */
  private void refreshReplyTtl() {
    byte[] ttl = EntryLayout.bytes(Long.toString(RedisSettings.REPLY_TTL.toMillis()));
    try (AbstractPipeline p = backend.redis.pipelined()) {
      for (String s : streams) {
        p.sendCommand(Command.PEXPIRE, EntryLayout.bytes(s), ttl);
        p.sendCommand(Command.PEXPIRE, EntryLayout.bytes(RedisSettings.delayed(s, group)), ttl);
      }
      p.sync();
    }
  }

  // ---------------------------------------------------------------- polling

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
    if (closed.get()) {
      return List.of();
    }
    try {
      if (max <= 0) {
        liveness();
        return List.of();
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        liveness();
        List<InboundRecord> out = new ArrayList<>();
        if (recoverOwn) {
          recoverOwn(out);
          recoverOwn = false;
          if (!out.isEmpty()) {
            return out;
          }
        }
        if (partitioned) {
          takeOver(out, max);
        }
        releaseScheduled();
        moveDue(out, max);
        if (!partitioned) {
          reclaim(out, max);
        }
        if (!out.isEmpty()) {
          return out;
        }
        long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        boolean read = readNew(out, max, Math.min(leftMs, BLOCK_SLICE_MS));
        if (!out.isEmpty() || closed.get()) {
          return out;
        }
        if (woken.getAndSet(false) || System.nanoTime() - deadline >= 0) {
          return out;
        }
        if (!read) {
          // No partition to read yet: wait a little for leases to free up.
          Thread.sleep(Math.max(1, Math.min(leftMs, 50)));
        }
      }
    } catch (RuntimeException e) {
      recoverOwn = true;
      if (RedisErrors.isNoGroup(e)) {
        // The server lost the group (a restart of a server that keeps nothing, or a deleted
        // stream): recreate it
        // from the start of what the stream holds now, which is all published since.
        for (String s : streams) {
          backend.createGroup(s, group, "0");
        }
        return List.of();
      }
      throw RedisErrors.map(e, "poll '" + topic + "' for group '" + group + "'", settings);
    }
  }

  /**
   * XREADGROUP {@code >} on the streams this member reads; false when it reads none (no partition
   * held).
   */
  private boolean readNew(List<InboundRecord> out, int max, long blockMs) {
    List<Integer> readable = new ArrayList<>(streams.length);
    for (int i = 0; i < streams.length; i++) {
      if (lease[i] == Lease.OWNED) {
        readable.add(i);
      }
    }
    if (readable.isEmpty()) {
      return false;
    }
    // COUNT is per stream: never ask for more than max in total.
    int k = Math.min(readable.size(), max);
    int per = max / k;
    int start = Math.floorMod(rotation++, readable.size());
    List<byte[]> args = new ArrayList<>(8 + 2 * k);
    args.add(EntryLayout.bytes("GROUP"));
    args.add(EntryLayout.bytes(group));
    args.add(EntryLayout.bytes(name));
    args.add(EntryLayout.bytes("COUNT"));
    args.add(EntryLayout.bytes(Integer.toString(per)));
    if (blockMs >= 1) {
      args.add(EntryLayout.bytes("BLOCK"));
      args.add(EntryLayout.bytes(Long.toString(blockMs)));
    }
    args.add(EntryLayout.bytes("STREAMS"));
    int[] chosen = new int[k];
    for (int j = 0; j < k; j++) {
      chosen[j] = readable.get((start + j) % readable.size());
      args.add(streamBytes[chosen[j]]);
    }
    for (int j = 0; j < k; j++) {
      args.add(GREATER);
    }
    Object reply = Raw.call(backend.redis, Command.XREADGROUP, (Object[]) EntryLayout.array(args));
    if (reply instanceof List<?> perStream) {
      for (Object o : perStream) {
        List<?> sr = (List<?>) o;
        String stream = EntryLayout.string((byte[]) sr.get(0));
        int index = indexOf(stream);
        for (Object e : (List<?>) sr.get(1)) {
          List<?> entry = (List<?>) e;
          String id = EntryLayout.string((byte[]) entry.get(0));
          out.add(record(index, id, (List<?>) entry.get(1), 1));
        }
      }
    }
    return true;
  }

  private static final byte[] GREATER = EntryLayout.bytes(">");

  @SuppressWarnings("unchecked")
  private List<List<?>> ownPending(int i) {
    return (List<List<?>>)
        Raw.call(
            backend.redis,
            Command.XPENDING,
            streamBytes[i],
            EntryLayout.bytes(group),
            EntryLayout.bytes("-"),
            EntryLayout.bytes("+"),
            EntryLayout.bytes("100000"),
            EntryLayout.bytes(name));
  }

  /**
   * Entries pending at this member that the runtime does not hold: a read whose reply was lost with
   * its connection. Claimed again (their delivery count goes up: the server did deliver them once)
   * and handed over, before anything newer of their streams, so ordering by key holds too. Only
   * this member's own entries are involved.
   */
  private void recoverOwn(List<InboundRecord> out) {
    flushSettlements();
    java.util.Set<String> heldIds = new java.util.HashSet<>();
    for (Record r : heldRecords) {
      heldIds.add(r.index + "/" + r.entryId);
    }
    for (int i = 0; i < streams.length; i++) {
      if (lease[i] == Lease.NONE) {
        continue;
      }
      java.util.Map<String, Long> candidates = new java.util.LinkedHashMap<>();
      for (List<?> p : ownPending(i)) {
        String id = EntryLayout.string((byte[]) p.get(0));
        if (!heldIds.contains(i + "/" + id)) {
          candidates.put(id, (Long) p.get(3));
        }
      }
      if (candidates.isEmpty()) {
        continue;
      }
      // An id leaves heldIds only after its settlement was queued: once that queue is flushed,
      // whatever is still
      // pending here and was not held is truly lost.
      flushSettlements();
      List<byte[]> lost = new ArrayList<>();
      java.util.Map<String, Long> counts = new java.util.HashMap<>();
      for (List<?> p : ownPending(i)) {
        String id = EntryLayout.string((byte[]) p.get(0));
        if (candidates.containsKey(id)) {
          lost.add(EntryLayout.bytes(id));
          counts.put(id, (Long) p.get(3));
        }
      }
      if (lost.isEmpty()) {
        continue;
      }
      List<byte[]> args =
          EntryLayout.list(
              streamBytes[i],
              EntryLayout.bytes(group),
              EntryLayout.bytes(name),
              EntryLayout.bytes("0"));
      args.addAll(lost);
      Object claimed = Raw.call(backend.redis, Command.XCLAIM, (Object[]) EntryLayout.array(args));
      for (Object o : (List<?>) claimed) {
        if (o instanceof List<?> entry) {
          String id = EntryLayout.string((byte[]) entry.get(0));
          out.add(record(i, id, (List<?>) entry.get(1), (int) (counts.getOrDefault(id, 0L) + 1)));
        }
      }
    }
  }

  /**
   * Adds the due messages published with a delay to the streams this member reads, where every
   * group then reads them as new entries; at most every {@link #MOVE_DUE_EVERY_NANOS}, like {@link
   * #moveDue}. A stream no member reads keeps its due messages scheduled until one does.
   */
  private void releaseScheduled() {
    long now = System.nanoTime();
    if (now - nextRelease < 0 || RedisSettings.isReplyTopic(topic)) {
      return;
    }
    nextRelease = now + MOVE_DUE_EVERY_NANOS;
    List<byte[]> args = new ArrayList<>(4);
    args.add(EntryLayout.bytes(Integer.toString(RELEASE_BATCH)));
    backend.appendTrim(args);
    for (int i = 0; i < streams.length; i++) {
      if (lease[i] != Lease.OWNED && lease[i] != Lease.TAKEOVER) {
        continue;
      }
      Scripts.RELEASE_SCHEDULED.run(
          backend.redis,
          List.of(streamBytes[i], EntryLayout.bytes(RedisSettings.scheduled(streams[i]))),
          args);
    }
  }

  /** Due delayed retries of the streams this member reads, to this member (the move-due script). */
  private void moveDue(List<InboundRecord> out, int max) {
    long now = System.nanoTime();
    if (now - nextMoveDue < 0 || out.size() >= max) {
      return;
    }
    nextMoveDue = now + MOVE_DUE_EVERY_NANOS;
    for (int i = 0; i < streams.length && out.size() < max; i++) {
      if (lease[i] != Lease.OWNED && lease[i] != Lease.TAKEOVER) {
        continue;
      }
      Object r =
          Scripts.MOVE_DUE.run(
              backend.redis,
              List.of(streamBytes[i], EntryLayout.bytes(RedisSettings.delayed(streams[i], group))),
              List.of(
                  EntryLayout.bytes(group),
                  EntryLayout.bytes(name),
                  EntryLayout.bytes(Integer.toString(max - out.size())),
                  EntryLayout.bytes(Scripts.PARKING)));
      addTriples(out, i, (List<?>) r);
    }
  }

  /**
   * Unpartitioned: entries idle for ackTimeout at members that stopped polling (the claim script).
   */
  private void reclaim(List<InboundRecord> out, int max) {
    long now = System.nanoTime();
    if (now - nextReclaim < 0 || out.size() >= max) {
      return;
    }
    long every = Math.max(100, Math.min(ackTimeoutMs / 4, 5000));
    nextReclaim = now + TimeUnit.MILLISECONDS.toNanos(every);
    String next = claim(0, reclaimCursor, ackTimeoutMs, max - out.size(), out);
    reclaimCursor = next.isEmpty() ? "-" : next;
  }

  /**
   * Partitioned: the pending entries of a newly held partition, in stream order, before anything
   * new.
   */
  private void takeOver(List<InboundRecord> out, int max) {
    for (int i = 0; i < streams.length && out.size() < max; i++) {
      if (lease[i] != Lease.TAKEOVER) {
        continue;
      }
      String next = claim(i, cursor[i], 0, max - out.size(), out);
      if (next.isEmpty()) {
        lease[i] = Lease.OWNED;
      } else {
        cursor[i] = next;
      }
    }
  }

  private String claim(int i, String from, long minIdleMs, int count, List<InboundRecord> out) {
    List<?> r =
        (List<?>)
            Scripts.CLAIM.run(
                backend.redis,
                List.of(streamBytes[i]),
                List.of(
                    EntryLayout.bytes(group),
                    EntryLayout.bytes(name),
                    EntryLayout.bytes(Long.toString(minIdleMs)),
                    EntryLayout.bytes(from),
                    EntryLayout.bytes(Integer.toString(count)),
                    EntryLayout.bytes(Scripts.PARKING)));
    addTriples(out, i, (List<?>) r.get(1));
    return EntryLayout.string((byte[]) r.get(0));
  }

  private void addTriples(List<InboundRecord> out, int index, List<?> triples) {
    for (Object o : triples) {
      List<?> t = (List<?>) o;
      String id = EntryLayout.string((byte[]) t.get(0));
      out.add(record(index, id, (List<?>) t.get(1), (int) Math.max(1, (Long) t.get(2))));
    }
  }

  private Record record(int index, String id, List<?> fields, int deliveryCount) {
    held[index].incrementAndGet();
    Record r =
        new Record(this, index, streams[index], id, EntryLayout.read(id, fields), deliveryCount);
    heldRecords.add(r);
    return r;
  }

  private int indexOf(String stream) {
    for (int i = 0; i < streams.length; i++) {
      if (streams[i].equals(stream)) {
        return i;
      }
    }
    throw new IllegalStateException("reply for a stream not asked for: " + stream);
  }

  // ---------------------------------------------------------------- liveness

  /**
   * Lease and membership upkeep (partitioned), or touching held entries (unpartitioned); throttled.
   */
  private void liveness() {
    long now = System.nanoTime();
    if (replyTopic && now - nextReplyTtl >= 0) {
      refreshReplyTtl();
      nextReplyTtl = now + RedisSettings.REPLY_TTL_REFRESH.toNanos();
    }
    if (!partitioned) {
      if (now - nextTouch >= 0) {
        nextTouch = now + TimeUnit.MILLISECONDS.toNanos(Math.max(1, ackTimeoutMs / 3));
        Scripts.TOUCH.run(
            backend.redis,
            List.of(streamBytes[0]),
            List.of(EntryLayout.bytes(group), EntryLayout.bytes(name)));
      }
      return;
    }
    for (int i = 0; i < streams.length; i++) {
      if (lease[i] == Lease.RELEASING && held[i].get() == 0) {
        giveUp(i);
      }
    }
    if (now - nextLeaseWork < 0) {
      return;
    }
    // Renew well within the lease: a third of it, and at least every 250 ms so free partitions are
    // found fast.
    nextLeaseWork =
        now + TimeUnit.MILLISECONDS.toNanos(Math.max(20, Math.min(ackTimeoutMs / 3, 250)));
    long members =
        (Long)
            Scripts.MEMBERS.run(
                backend.redis,
                List.of(EntryLayout.bytes(settings.members(topic, group))),
                List.of(
                    EntryLayout.bytes(name),
                    EntryLayout.bytes(Long.toString(ackTimeoutMs)),
                    EntryLayout.bytes("0")));
    int target = (int) ((streams.length + Math.max(1, members) - 1) / Math.max(1, members));
    List<Integer> mine = new ArrayList<>();
    List<Response<Object>> renewals = new ArrayList<>();
    List<Response<Object>> owners = new ArrayList<>();
    try (AbstractPipeline p = backend.redis.pipelined()) {
      for (int i = 0; i < streams.length; i++) {
        if (lease[i] != Lease.NONE) {
          mine.add(i);
          renewals.add(
              p.evalsha(
                  Scripts.RENEW.sha,
                  List.of(leaseKey(i)),
                  List.of(
                      EntryLayout.bytes(name), EntryLayout.bytes(Long.toString(ackTimeoutMs)))));
          owners.add(null);
        } else {
          renewals.add(null);
          owners.add(p.sendCommand(Command.GET, leaseKey(i)));
        }
      }
      p.sync();
    }
    int holding = 0;
    for (int i = 0; i < streams.length; i++) {
      if (renewals.get(i) != null) {
        Object r;
        try {
          r = renewals.get(i).get();
        } catch (redis.clients.jedis.exceptions.JedisNoScriptException e) {
          r =
              Scripts.RENEW.run(
                  backend.redis,
                  List.of(leaseKey(i)),
                  List.of(EntryLayout.bytes(name), EntryLayout.bytes(Long.toString(ackTimeoutMs))));
        }
        if (((Long) r) == 0L) {
          LOG.log(
              System.Logger.Level.INFO,
              "member " + name + " lost its lease on " + streams[i] + " for group " + group);
          lease[i] = Lease.NONE;
        } else if (lease[i] != Lease.RELEASING) {
          holding++;
        }
      }
    }
    // Too many: give the surplus back once nothing of it is in flight here (ordering), newest
    // partitions first.
    for (int i = streams.length - 1; i >= 0 && holding > target; i--) {
      if (lease[i] == Lease.OWNED || lease[i] == Lease.TAKEOVER) {
        lease[i] = Lease.RELEASING;
        holding--;
        if (held[i].get() == 0) {
          giveUp(i);
        }
      }
    }
    // Too few: take free partitions. SET NX makes each lease go to one member only.
    for (int i = 0; i < streams.length && holding < target; i++) {
      if (lease[i] != Lease.NONE || owners.get(i) == null || owners.get(i).get() != null) {
        continue;
      }
      Object ok =
          Raw.call(
              backend.redis,
              Command.SET,
              leaseKey(i),
              EntryLayout.bytes(name),
              EntryLayout.bytes("NX"),
              EntryLayout.bytes("PX"),
              EntryLayout.bytes(Long.toString(ackTimeoutMs)));
      if (ok != null) {
        lease[i] = Lease.TAKEOVER;
        cursor[i] = "-";
        holding++;
      }
    }
  }

  private void flushSettlements() {
    if (!backend.settler.flush(settings.timeout())) {
      throw new io.polybus.BrokerUnavailableException(
          "acks of group '"
              + group
              + "' on '"
              + topic
              + "' could not be sent to "
              + settings.where());
    }
  }

  private byte[] leaseKey(int i) {
    return EntryLayout.bytes(RedisSettings.lease(streams[i], group));
  }

  /**
   * Hands a partition to whoever takes it next: acks first, so the next owner never sees what was
   * acked here.
   */
  private void giveUp(int i) {
    if (!backend.settler.flush(settings.timeout())) {
      return; // still RELEASING: tried again on the next poll
    }
    Scripts.RELEASE_LEASE.run(
        backend.redis, List.of(leaseKey(i)), List.of(EntryLayout.bytes(name)));
    lease[i] = Lease.NONE;
  }

  // ---------------------------------------------------------------- settling and closing

  @Override
  public void wakeup() {
    woken.set(true);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    woken.set(true);
    try {
      backend.settler.flush(settings.timeout().multipliedBy(2));
      List<List<byte[]>> unhandled = unhandledByStream();
      for (int i = 0; i < streams.length; i++) {
        // Unpartitioned: what is held goes to the delayed set, due now, for any member.
        // Partitioned: it waits
        // for the partition's next owner, who takes it over in stream order before anything newer.
        // Deliveries no
        // handler started go along, with their count taken back (see LEAVE).
        List<byte[]> args =
            EntryLayout.list(
                EntryLayout.bytes(group),
                EntryLayout.bytes(name),
                EntryLayout.bytes(partitioned ? Scripts.ORPHANED : Scripts.PARKING),
                EntryLayout.bytes(partitioned ? "0" : "1"));
        args.addAll(unhandled.get(i));
        Scripts.LEAVE.run(
            backend.redis,
            List.of(streamBytes[i], EntryLayout.bytes(RedisSettings.delayed(streams[i], group))),
            args);
        if (partitioned && lease[i] != Lease.NONE) {
          Scripts.RELEASE_LEASE.run(
              backend.redis, List.of(leaseKey(i)), List.of(EntryLayout.bytes(name)));
          lease[i] = Lease.NONE;
        }
      }
      if (partitioned) {
        Scripts.MEMBERS.run(
            backend.redis,
            List.of(EntryLayout.bytes(settings.members(topic, group))),
            List.of(
                EntryLayout.bytes(name),
                EntryLayout.bytes(Long.toString(ackTimeoutMs)),
                EntryLayout.bytes("1")));
      }
    } catch (RuntimeException e) {
      // The server is unreachable: what this member held is reclaimed after ackTimeout (its leases
      // lapse), and
      // counts like the deliveries of a member that died, also those no handler started.
      LOG.log(
          System.Logger.Level.WARNING,
          "member "
              + name
              + " of group "
              + group
              + " on '"
              + topic
              + "' could not hand back its records; they return after ackTimeout: "
              + e.getMessage());
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  /**
   * Per stream, (entry id, delivery count) pairs of the held records marked not handled: LEAVE's
   * extra ARGV.
   */
  private List<List<byte[]>> unhandledByStream() {
    List<List<byte[]>> out = new ArrayList<>(streams.length);
    for (int i = 0; i < streams.length; i++) {
      out.add(new ArrayList<>());
    }
    for (Record r : heldRecords) {
      if (r.notHandled && !r.settled.get()) {
        List<byte[]> pairs = out.get(r.index);
        pairs.add(EntryLayout.bytes(r.entryId));
        pairs.add(EntryLayout.bytes(Integer.toString(r.deliveryCount)));
      }
    }
    return out;
  }

  private void settled(Record r) {
    // The record leaves the set after its settlement is queued: recovery flushes the queue before
    // it trusts that.
    heldRecords.remove(r);
    held[r.index].decrementAndGet();
  }

  /**
   * One delivered entry. Thread-safe; settled once by the runtime; ignored after its consumer
   * closed.
   */
  static final class Record implements InboundRecord {
    final RedisConsumer consumer;
    final int index;
    final String stream;
    final String group;
    final String entryId;
    private final Message message;
    private final int deliveryCount;
    private final AtomicBoolean settled = new AtomicBoolean();

    /**
     * No handler started this delivery: when its consumer closes, it goes back without counting.
     */
    private volatile boolean notHandled;

    Record(
        RedisConsumer consumer,
        int index,
        String stream,
        String entryId,
        Message message,
        int deliveryCount) {
      this.consumer = consumer;
      this.index = index;
      this.stream = stream;
      this.group = consumer.group;
      this.entryId = entryId;
      this.message = message;
      this.deliveryCount = deliveryCount;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int deliveryCount() {
      return deliveryCount;
    }

    @Override
    public void ack() {
      if (consumer.isClosed() || !settled.compareAndSet(false, true)) {
        return;
      }
      consumer.backend.settler.ack(stream, group, entryId);
      consumer.settled(this);
    }

    @Override
    public void release(Duration delay) {
      if (consumer.isClosed() || !settled.compareAndSet(false, true)) {
        return;
      }
      // Rounded up, plus one: clocks tick in milliseconds and the delay is a lower bound.
      consumer.backend.settler.park(
          stream, group, entryId, (Math.max(0, delay.toNanos()) + 999_999) / 1_000_000 + 1);
      consumer.settled(this);
    }

    @Override
    public void recordAttempts(int attempts) {
      if (consumer.isClosed()
          || settled.get()
          || !consumer.partitioned
          || consumer.lease[index] == Lease.NONE) {
        return;
      }
      // Stored as the entry's delivery count, so the next owner after a crash counts on from here.
      consumer.backend.settler.attempts(stream, group, consumer.name, entryId, attempts);
    }

    @Override
    public void markNotHandled() {
      // A mark that races close() may be missed: the delivery then counts, as it would without the
      // capability.
      if (!consumer.isClosed() && !settled.get()) {
        notHandled = true;
      }
    }

    /** Marks the record settled by a dead letter (sent by the settler with its own ack). */
    boolean settleForDeadLetter() {
      if (consumer.isClosed() || !settled.compareAndSet(false, true)) {
        return false;
      }
      consumer.settled(this);
      return true;
    }
  }
}
