package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisProtocol;

/**
 * The Redis backend next to raw Jedis doing the same work against the same server, 100-byte
 * payloads.
 *
 * <p>Publish: {@code --messages} entries. Raw: pipelined {@code XADD}s of the very fields Polybus
 * writes (payload, a 26-character id, key, timestamp), synced every 4096 (the largest round the
 * backend's publisher sends). Polybus: {@code publishAll} calls of 1000 messages (message
 * construction and id generation included) with at most 8 calls outstanding; the run ends when the
 * last is confirmed.
 *
 * <p>Consume: a stream pre-filled with the same entries is read by a new group from the start until
 * every entry was seen. Raw: {@code XREADGROUP COUNT 1000} then one {@code XACK} of the batch's
 * ids, in a loop. Polybus: a subscription ({@code Ordering.NONE}, {@code concurrency} 1, {@code
 * maxInFlight} 4096) whose handler acks by returning; the run ends when the last handler ran.
 *
 * <p>Each side runs {@code --runs} times after {@code --warmup} discarded runs, alternating, on
 * fresh streams that are deleted afterwards; the medians and their ratios are printed. Usage:
 * {@code RedisThroughput [--host 127.0.0.1] [--port 6379] [--messages 200000] [--runs 5] [--warmup
 * 2]}.
 */
@SuppressWarnings(
    "deprecation") // UnifiedJedis.sendCommand, the raw side's way to send any command, as the
// backend's
public final class RedisThroughput {
  private static final int BATCH = 1000;
  private static final int KEYS = 1000;
  private static final byte[] PAYLOAD = new byte[100];

  public static void main(String[] args) throws Exception {
    String host = "127.0.0.1";
    int port = 6379;
    int messages = 200_000;
    int runs = 5;
    int warmup = 2;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--host" -> host = v;
        case "--port" -> port = Integer.parseInt(v);
        case "--messages" -> messages = Integer.parseInt(v);
        case "--runs" -> runs = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Arrays.fill(PAYLOAD, (byte) 'x');
    String prefix = "polybus-bench-" + UUID.randomUUID().toString().substring(0, 8) + ":";
    String uri = "redis://" + host + ":" + port + "?prefix=" + prefix;
    double[][] results = new double[4][runs];
    // RESP2, as the backend uses: replies are plain arrays on both sides.
    RedisClient rawClient =
        RedisClient.builder()
            .hostAndPort(host, port)
            .clientConfig(DefaultJedisClientConfig.builder().protocol(RedisProtocol.RESP2).build())
            .build();
    try (RedisClient raw = rawClient;
        Polybus bus = Polybus.connect(uri)) {
      for (int r = -warmup; r < runs; r++) {
        double rawPublish = rawPublish(raw, prefix + "raw-pub", messages);
        double busPublish = busPublish(bus, raw, prefix, "bus-pub", messages);
        double rawConsume = rawConsume(raw, prefix + "raw-sub", messages);
        double busConsume = busConsume(bus, raw, prefix, "bus-sub", messages);
        System.out.printf(
            Locale.ROOT,
            "%s publish raw %,.0f polybus %,.0f | consume raw %,.0f polybus %,.0f msg/s%n",
            r < 0 ? "warm-up" : "run " + (r + 1),
            rawPublish,
            busPublish,
            rawConsume,
            busConsume);
        if (r >= 0) {
          results[0][r] = rawPublish;
          results[1][r] = busPublish;
          results[2][r] = rawConsume;
          results[3][r] = busConsume;
        }
      }
    }
    double[] m = new double[4];
    for (int i = 0; i < 4; i++) {
      double[] s = results[i].clone();
      Arrays.sort(s);
      m[i] = s[s.length / 2];
    }
    // Each run measures both sides back to back, so the median of the per-run ratios is the figure
    // least moved by
    // load that comes and goes on a shared machine.
    System.out.printf(
        Locale.ROOT,
        "median publish: raw XADD pipelined %,.0f msg/s, polybus %,.0f msg/s, ratio %.2f"
            + " (median of per-run ratios %.2f)%n",
        m[0],
        m[1],
        m[1] / m[0],
        Stats.medianRatio(results[1], results[0]));
    System.out.printf(
        Locale.ROOT,
        "median consume: raw XREADGROUP+XACK %,.0f msg/s, polybus %,.0f msg/s, ratio %.2f"
            + " (median of per-run ratios %.2f)%n",
        m[2],
        m[3],
        m[3] / m[2],
        Stats.medianRatio(results[3], results[2]));
  }

  /** The fields Polybus writes for a message with this id, key and timestamp. */
  private static byte[][] xadd(String stream, String id, String key, long ts) {
    return new byte[][] {
      bytes(stream),
      bytes("*"),
      bytes("payload"),
      PAYLOAD,
      bytes("id"),
      bytes(id),
      bytes("key"),
      bytes(key),
      bytes("ts"),
      bytes(Long.toString(ts))
    };
  }

  private static final int RAW_PUBLISH_BATCH = 4096;

  private static double rawPublish(RedisClient raw, String stream, int n) {
    long start = System.nanoTime();
    for (int done = 0; done < n; done += RAW_PUBLISH_BATCH) {
      try (AbstractPipeline p = raw.pipelined()) {
        for (int i = 0; i < RAW_PUBLISH_BATCH && done + i < n; i++) {
          // A fixed-width id like a ULID, generated per entry as Polybus does.
          String id = String.format(Locale.ROOT, "%026d", done + i);
          p.sendCommand(
              Command.XADD,
              xadd(stream, id, "k" + ((done + i) % KEYS), System.currentTimeMillis()));
        }
        p.sync();
      }
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    raw.del(stream);
    return rate;
  }

  private static double busPublish(Polybus bus, RedisClient raw, String prefix, String topic, int n)
      throws Exception {
    long start = System.nanoTime();
    fill(bus, topic, n);
    double rate = n / ((System.nanoTime() - start) / 1e9);
    raw.del(prefix + topic);
    return rate;
  }

  private static void fill(Polybus bus, String topic, int n) throws Exception {
    List<CompletableFuture<?>> outstanding = new ArrayList<>();
    for (int done = 0; done < n; done += BATCH) {
      List<Message> batch = new ArrayList<>(BATCH);
      for (int i = 0; i < BATCH && done + i < n; i++) {
        batch.add(Message.builder().key("k" + ((done + i) % KEYS)).payload(PAYLOAD).build());
      }
      outstanding.add(bus.publishAll(topic, batch));
      if (outstanding.size() >= 8) {
        outstanding.remove(0).get();
      }
    }
    for (CompletableFuture<?> f : outstanding) {
      f.get();
    }
  }

  private static double rawConsume(RedisClient raw, String stream, int n) {
    for (int done = 0; done < n; done += BATCH) {
      try (AbstractPipeline p = raw.pipelined()) {
        for (int i = 0; i < BATCH && done + i < n; i++) {
          p.sendCommand(
              Command.XADD,
              xadd(
                  stream,
                  String.format(Locale.ROOT, "%026d", done + i),
                  "k" + ((done + i) % KEYS),
                  System.currentTimeMillis()));
        }
        p.sync();
      }
    }
    raw.sendCommand(Command.XGROUP, "CREATE", stream, "g", "0");
    long start = System.nanoTime();
    int seen = 0;
    while (seen < n) {
      Object reply =
          raw.sendCommand(
              Command.XREADGROUP,
              bytes("GROUP"),
              bytes("g"),
              bytes("c"),
              bytes("COUNT"),
              bytes(Integer.toString(BATCH)),
              bytes("STREAMS"),
              bytes(stream),
              bytes(">"));
      List<?> entries = (List<?>) ((List<?>) ((List<?>) reply).get(0)).get(1);
      byte[][] ack = new byte[entries.size() + 2][];
      ack[0] = bytes(stream);
      ack[1] = bytes("g");
      for (int i = 0; i < entries.size(); i++) {
        ack[i + 2] = (byte[]) ((List<?>) entries.get(i)).get(0);
      }
      raw.sendCommand(Command.XACK, ack);
      seen += entries.size();
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    raw.del(stream);
    return rate;
  }

  private static double busConsume(Polybus bus, RedisClient raw, String prefix, String topic, int n)
      throws Exception {
    fill(bus, topic, n);
    CountDownLatch all = new CountDownLatch(1);
    AtomicLong seen = new AtomicLong();
    long start = System.nanoTime();
    Subscription s =
        bus.subscribe(
            topic,
            "g",
            d -> {
              if (seen.incrementAndGet() == n) {
                all.countDown();
              }
            },
            SubscribeOptions.builder()
                .startFrom(StartFrom.EARLIEST)
                .ordering(Ordering.NONE)
                .maxInFlight(4096)
                .build());
    if (!all.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("only " + seen.get() + " of " + n + " consumed");
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    s.close();
    raw.del(prefix + topic);
    return rate;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
