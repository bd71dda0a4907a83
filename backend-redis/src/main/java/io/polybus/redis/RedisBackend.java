package io.polybus.redis;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PolybusTimeoutException;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.Messages;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * One bus on one Redis server. Thread-safe.
 *
 * <p>Threads: a publisher thread takes queued publishes and sends them as one pipeline of {@code
 * XADD}s per round; a {@link Settler} thread does the same for acks and retries. Consumers block in
 * {@code XREADGROUP} on their own poll thread. All of them borrow connections from one pool, which
 * replaces broken connections, so a dropped connection or a restarted server costs the failed round
 * trip and nothing else.
 *
 * <p>Publishing is bounded: a publish fails with {@link PolybusTimeoutException} once it waited
 * {@code publishTimeout} without being sent, and a sent round trip fails after the socket {@code
 * timeout}.
 */
final class RedisBackend implements Backend {
  private static final int MAX_PUBLISH_BATCH = 4096;

  final RedisSettings settings;
  final UnifiedJedis redis;
  final Settler settler;
  private final Capabilities capabilities;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final LinkedBlockingQueue<PublishRequest> publishes = new LinkedBlockingQueue<>();
  private final Thread publisher;

  RedisBackend(RedisSettings settings, UnifiedJedis redis) {
    this.settings = settings;
    this.redis = redis;
    this.capabilities =
        Capabilities.builder()
            .orderedByKey(settings.partitions() > 0)
            .replay(true)
            .durable(false)
            .nativeDelayedRetry(true)
            .mayDuplicate(false)
            .uncountedGiveBack(true)
            .lagAccuracy(ConsumerLag.Accuracy.EXACT)
            .maxPayloadBytes(settings.maxPayloadBytes())
            .maxHeaders(64)
            .maxDeliveryDelay(MAX_DELIVERY_DELAY)
            .build();
    this.settler = new Settler(this);
    this.publisher = new Thread(this::publishLoop, "polybus-redis-publisher");
    publisher.setDaemon(true);
    publisher.start();
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  // ---------------------------------------------------------------- publishing

  /**
   * Delayed messages wait in a sorted set in Redis's memory; the bound only keeps a mistaken delay
   * from being accepted silently.
   */
  static final java.time.Duration MAX_DELIVERY_DELAY = java.time.Duration.ofDays(30);

  private record PublishRequest(
      String topic,
      List<Message> messages,
      CompletableFuture<List<PublishReceipt>> future,
      long enqueuedNanos) {}

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    CompletableFuture<List<PublishReceipt>> f = new CompletableFuture<>();
    if (closed.get()) {
      f.completeExceptionally(new IllegalStateException("the redis backend is closed"));
      return f;
    }
    publishes.add(new PublishRequest(topic, messages, f, System.nanoTime()));
    return f;
  }

  private void publishLoop() {
    List<PublishRequest> batch = new ArrayList<>();
    while (!closed.get() || !publishes.isEmpty()) {
      try {
        PublishRequest first = publishes.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        int count = first.messages.size();
        PublishRequest next;
        while (count < MAX_PUBLISH_BATCH && (next = publishes.poll()) != null) {
          batch.add(next);
          count += next.messages.size();
        }
        send(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (Throwable t) {
        for (PublishRequest r : batch) {
          r.future.completeExceptionally(
              RedisErrors.map(t, "publish to '" + r.topic + "'", settings));
        }
      } finally {
        batch.clear();
      }
    }
    PublishRequest r;
    while ((r = publishes.poll()) != null) {
      r.future.completeExceptionally(
          new IllegalStateException("the redis backend closed before sending"));
    }
  }

  private void send(List<PublishRequest> batch) {
    long now = System.nanoTime();
    List<PublishRequest> live = new ArrayList<>(batch.size());
    for (PublishRequest r : batch) {
      if (now - r.enqueuedNanos > settings.publishTimeout().toNanos()) {
        r.future.completeExceptionally(
            new PolybusTimeoutException(
                "publish to '"
                    + r.topic
                    + "' not sent within "
                    + settings.publishTimeout()
                    + " ("
                    + settings.where()
                    + ")"));
      } else {
        live.add(r);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    List<List<Response<Object>>> responses = new ArrayList<>(live.size());
    try (AbstractPipeline p = redis.pipelined()) {
      for (PublishRequest r : live) {
        List<Response<Object>> rs = new ArrayList<>(r.messages.size());
        long nowMillis = System.currentTimeMillis();
        for (Message m : r.messages) {
          long delay = Messages.delayMillis(m, nowMillis);
          rs.add(
              delay > 0
                  ? p.eval(
                      Scripts.SCHEDULE.source,
                      List.of(EntryLayout.bytes(RedisSettings.scheduled(streamOf(r.topic, m)))),
                      List.of(EntryLayout.bytes(Long.toString(delay)), scheduledMember(m)))
                  : p.sendCommand(Command.XADD, xaddArgs(r.topic, m)));
        }
        responses.add(rs);
      }
      p.sync();
    }
    for (int i = 0; i < live.size(); i++) {
      PublishRequest r = live.get(i);
      try {
        List<Response<Object>> rs = responses.get(i);
        List<PublishReceipt> receipts = new ArrayList<>(rs.size());
        for (int j = 0; j < rs.size(); j++) {
          Object reply = rs.get(j).get();
          // A scheduled message (the ZADD's count) has no entry id until it comes due.
          byte[] entryId = reply instanceof byte[] b ? b : null;
          // Null only for NOMKSTREAM on a reply topic already deleted: its requester closed and
          // nobody can read the reply, which is dropped as on any backend (empty position).
          receipts.add(
              new PublishReceipt(
                  r.topic,
                  r.messages.get(j).id(),
                  entryId == null ? "" : EntryLayout.string(entryId)));
        }
        r.future.complete(receipts);
      } catch (RuntimeException e) {
        r.future.completeExceptionally(
            RedisErrors.map(e, "publish to '" + r.topic + "'", settings));
      }
    }
  }

  private String streamOf(String topic, Message m) {
    return settings.stream(topic, settings.partitionOf(m.key(), m.id()));
  }

  /** A scheduled set's member for {@code m}: a random nonce, then the entry's fields, packed. */
  private byte[] scheduledMember(Message m) {
    List<byte[]> parts = new ArrayList<>(10 + 2 * m.headers().size());
    byte[] nonce = new byte[12];
    java.util.concurrent.ThreadLocalRandom.current().nextBytes(nonce);
    parts.add(nonce);
    EntryLayout.appendFields(m, parts);
    return EntryLayout.pack(parts);
  }

  /** {@code XADD <stream> [MAXLEN ~ n | MINID ~ id] * <fields>} for one message. */
  byte[][] xaddArgs(String topic, Message m) {
    List<byte[]> args = new ArrayList<>(16 + 2 * m.headers().size());
    args.add(EntryLayout.bytes(streamOf(topic, m)));
    if (RedisSettings.isReplyTopic(topic)) {
      // A late reply must not bring back the stream of a requester that closed (or whose TTL ran
      // out): without its group nobody would ever read or delete it.
      args.add(NOMKSTREAM);
    }
    appendTrim(args);
    args.add(ASTERISK);
    EntryLayout.appendFields(m, args);
    return EntryLayout.array(args);
  }

  private static final byte[] ASTERISK = EntryLayout.bytes("*");
  private static final byte[] TILDE = EntryLayout.bytes("~");
  private static final byte[] MAXLEN = EntryLayout.bytes("MAXLEN");
  private static final byte[] MINID = EntryLayout.bytes("MINID");
  private static final byte[] NOMKSTREAM = EntryLayout.bytes("NOMKSTREAM");

  /** Appends the stream's trim arguments ({@code MAXLEN ~ n}, {@code MINID ~ id} or none). */
  void appendTrim(List<byte[]> args) {
    if (settings.maxLen() > 0) {
      args.add(MAXLEN);
      args.add(TILDE);
      args.add(EntryLayout.bytes(Long.toString(settings.maxLen())));
    } else if (!settings.retention().isZero()) {
      // Entry ids start with their creation time in ms; this client's clock decides what is old
      // enough.
      args.add(MINID);
      args.add(TILDE);
      args.add(
          EntryLayout.bytes(
              Long.toString(System.currentTimeMillis() - settings.retention().toMillis())));
    }
  }

  // ---------------------------------------------------------------- groups and consumers

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    for (int i = 0; i < settings.streamCount(); i++) {
      createGroup(settings.stream(topic, i), group, startFrom == StartFrom.EARLIEST ? "0" : "$");
    }
  }

  /** {@code XGROUP CREATE ... MKSTREAM}; an existing group is left as it is. */
  void createGroup(String stream, String group, String from) {
    try {
      Raw.call(redis, Command.XGROUP, "CREATE", stream, group, from, "MKSTREAM");
    } catch (JedisDataException e) {
      if (!String.valueOf(e.getMessage()).startsWith("BUSYGROUP")) {
        throw RedisErrors.map(e, "create group '" + group + "' on '" + stream + "'", settings);
      }
    } catch (RuntimeException e) {
      throw RedisErrors.map(e, "create group '" + group + "' on '" + stream + "'", settings);
    }
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    ensureGroup(spec.topic(), spec.group(), spec.startFrom());
    return new RedisConsumer(this, spec);
  }

  @Override
  public CompletableFuture<Void> deadLetter(
      InboundRecord record, String deadLetterTopic, Message deadLetter) {
    if (!(record instanceof RedisConsumer.Record r)) {
      return Backend.super.deadLetter(record, deadLetterTopic, deadLetter);
    }
    // The script runs on the settler thread, after every ack queued before it: one atomic XADD +
    // XACK.
    return settler
        .deadLetter(
            r,
            settings.stream(
                deadLetterTopic, settings.partitionOf(deadLetter.key(), deadLetter.id())),
            deadLetter)
        .thenRun(r::settleForDeadLetter);
  }

  /** Entries one {@link Scripts#COUNT_AFTER} call counts. */
  private static final int COUNT_PAGE = 1000;

  /**
   * The group's pending entries (delivered and not acked, parked retries included) plus the entries
   * it has not been delivered yet, per stream, from one {@link Scripts#LAG} script: an atomic
   * snapshot. A stream that does not exist lags by 0, and so does a group that does not exist yet
   * (a new group starts at the tail unless it asks otherwise, as {@code Polybus.lag} says).
   */
  @Override
  public ConsumerLag lag(String topic, String group) {
    int n = settings.streamCount();
    List<byte[]> keys = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      keys.add(EntryLayout.bytes(settings.stream(topic, i)));
    }
    String what = "read the lag of group '" + group + "' on '" + topic + "'";
    List<?> reply;
    try {
      reply = (List<?>) Scripts.LAG.run(redis, keys, List.of(EntryLayout.bytes(group)));
    } catch (RuntimeException e) {
      throw RedisErrors.map(e, what, settings);
    }
    long now = (Long) reply.get(0);
    Map<String, Long> shares = new LinkedHashMap<>();
    long oldestMillis = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      List<?> s = (List<?>) reply.get(i + 1);
      long state = (Long) s.get(0);
      long share = (Long) s.get(1);
      if (state == 3) {
        share += countAfter(keys.get(i), (byte[]) s.get(4), what);
      } else {
        share += (Long) s.get(2);
      }
      shares.put(Integer.toString(i), share);
      String oldest = EntryLayout.string((byte[]) s.get(3));
      if (share > 0 && !oldest.isEmpty()) {
        oldestMillis =
            Math.min(oldestMillis, Long.parseLong(oldest.substring(0, oldest.indexOf('-'))));
      }
    }
    Duration age = oldestMillis == Long.MAX_VALUE ? null : Duration.ofMillis(now - oldestMillis);
    Instant at = Instant.ofEpochMilli(now);
    return settings.partitions() == 0
        ? ConsumerLag.of(topic, group, shares.get("0"), age, ConsumerLag.Accuracy.EXACT, at)
        : ConsumerLag.ofPartitions(topic, group, shares, age, ConsumerLag.Accuracy.EXACT, at);
  }

  /**
   * The entries after {@code from}, counted a page at a time: Redis keeps no {@code lag} for a
   * group once an entry after its last delivered one was deleted ({@code XDEL}). Not atomic with
   * the rest of the figure; each page is one round trip.
   */
  private long countAfter(byte[] stream, byte[] from, String what) {
    long count = 0;
    byte[] cursor = from;
    byte[] page = EntryLayout.bytes(Integer.toString(COUNT_PAGE));
    while (true) {
      List<?> r;
      try {
        r = (List<?>) Scripts.COUNT_AFTER.run(redis, List.of(stream), List.of(cursor, page));
      } catch (RuntimeException e) {
        throw RedisErrors.map(e, what, settings);
      }
      long got = (Long) r.get(0);
      count += got;
      if (got < COUNT_PAGE) {
        return count;
      }
      cursor = (byte[]) r.get(1);
    }
  }

  /**
   * Deletes every key this backend keeps for {@code topic}: its stream (each partition stream with
   * {@code partitions=N}, this bus's N) and, for each group the streams have, the delayed-retry set
   * and partition lease of each stream and the group's members set. Names are computed, never
   * matched, so no key of another topic can be hit ({@code a} vs {@code a.b}: portable names hold
   * no {@code :}). Two round trips (read the groups, then one {@code DEL}); keys already gone are
   * fine.
   */
  @Override
  public boolean deleteTopic(String topic) {
    String what = "delete topic '" + topic + "'";
    try {
      int n = settings.streamCount();
      List<Response<Object>> infos = new ArrayList<>(n);
      try (AbstractPipeline p = redis.pipelined()) {
        for (int i = 0; i < n; i++) {
          infos.add(
              p.sendCommand(
                  Command.XINFO,
                  EntryLayout.bytes("GROUPS"),
                  EntryLayout.bytes(settings.stream(topic, i))));
        }
        p.sync();
      }
      java.util.Set<String> groups = new java.util.LinkedHashSet<>();
      for (Response<Object> r : infos) {
        Object reply;
        try {
          reply = r.get();
        } catch (JedisDataException e) {
          continue; // "ERR no such key": this stream is gone already
        }
        for (Object g : (List<?>) reply) {
          List<?> fields = (List<?>) g;
          for (int f = 0; f + 1 < fields.size(); f += 2) {
            if ("name".equals(EntryLayout.string((byte[]) fields.get(f)))) {
              groups.add(EntryLayout.string((byte[]) fields.get(f + 1)));
            }
          }
        }
      }
      List<Object> keys = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String stream = settings.stream(topic, i);
        keys.add(stream);
        keys.add(RedisSettings.scheduled(stream));
        for (String g : groups) {
          keys.add(RedisSettings.delayed(stream, g));
          keys.add(RedisSettings.lease(stream, g));
        }
      }
      for (String g : groups) {
        keys.add(settings.members(topic, g));
      }
      Raw.call(redis, Command.DEL, keys.toArray());
      return true;
    } catch (RuntimeException e) {
      throw RedisErrors.map(e, what, settings);
    }
  }

  @Override
  public Health health() {
    if (closed.get()) {
      return Health.down("redis " + settings.where() + ": this backend is closed");
    }
    try {
      Object pong = Raw.call(redis, Command.PING);
      return Health.up(
          "redis " + settings.where() + " answered " + EntryLayout.string((byte[]) pong));
    } catch (RuntimeException e) {
      return Health.down("redis " + settings.where() + " unreachable: " + e.getMessage());
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
    try {
      publisher.join(settings.publishTimeout().toMillis() + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    settler.close();
    redis.close();
  }
}
