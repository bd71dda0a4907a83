package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka backend next to a raw kafka-clients producer and consumer doing the same work against
 * the same broker.
 *
 * <p>Publish: {@code --messages} records with 100-byte values and keys over 1000 keys, sent
 * asynchronously, the run ending when the last one is acknowledged; both sides use the same
 * producer settings ({@code acks=all}, idempotent, {@code linger.ms=5}, {@code batch.size=65536})
 * and keep at most {@code --window} records unacknowledged. Polybus publishes in {@code publishAll}
 * calls of 1000 (message construction, id generation included). The raw producer adds a
 * 26-character id header to each record as Polybus does ({@code --raw-id-header false}: bare
 * records).
 *
 * <p>Consume: a topic pre-filled with the same records is read by a new group from the beginning
 * until every record was seen: raw with {@code poll} and {@code commitAsync} per poll; Polybus with
 * a subscription ({@code Ordering.KEY}, {@code concurrency} 1, {@code maxInFlight} 4096) whose
 * handler reads the payload's size and acks by returning.
 *
 * <p>Each side runs {@code --runs} times after {@code --warmup} discarded runs, publishing to fresh
 * topics and consuming a topic filled just before; within a run the two sides of each pair take
 * turns going first. The medians, their ratio and the median of the per-run ratios are printed.
 * Usage: {@code KafkaThroughput [--bootstrap 127.0.0.1:9092] [--messages 1000000] [--runs 7]
 * [--warmup 2] [--window 100000] [--raw-id-header true]}.
 */
public final class KafkaThroughput {
  private static final int KEYS = 1000;
  private static final int PAYLOAD = 100;

  public static void main(String[] args) throws Exception {
    String bootstrap = "127.0.0.1:9092";
    int messages = 1_000_000;
    int runs = 7;
    int warmup = 2;
    int window = 100_000;
    boolean rawIdHeader = true;
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--bootstrap":
          bootstrap = v;
          break;
        case "--messages":
          messages = Integer.parseInt(v);
          break;
        case "--runs":
          runs = Integer.parseInt(v);
          break;
        case "--warmup":
          warmup = Integer.parseInt(v);
          break;
        case "--window":
          window = Integer.parseInt(v);
          break;
        case "--raw-id-header":
          rawIdHeader = Boolean.parseBoolean(v);
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    String uri = "kafka://" + bootstrap + "?linger=5ms&batchSize=65536&partitions=4";
    double[] rawPub = new double[runs];
    double[] busPub = new double[runs];
    double[] rawCon = new double[runs];
    double[] busCon = new double[runs];
    try (Polybus bus = Polybus.connect(uri);
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(
                producerConfig(bootstrap), new ByteArraySerializer(), new ByteArraySerializer());
        Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      for (int r = -warmup; r < runs; r++) {
        // Each pair runs in turn order, Polybus first every other run, so that whatever the first
        // of a pair pays
        // for or leaves behind (a JIT compilation, a young GC, the broker's page cache) falls on
        // both sides alike.
        boolean busFirst = (r & 1) != 0;
        double a;
        double b;
        if (busFirst) {
          b = busPublish(bus, messages, window);
          a = rawPublish(producer, bus, messages, window, rawIdHeader);
        } else {
          a = rawPublish(producer, bus, messages, window, rawIdHeader);
          b = busPublish(bus, messages, window);
        }
        // Each consumer reads a topic filled just before it: this machine's page cache gives up
        // written data within
        // seconds, and a raw consumer's close waits for its pending commits, so a topic read second
        // was read from disk.
        double c;
        double d;
        if (busFirst) {
          d = busConsume(bus, fill(bus, messages), messages);
          c = rawConsume(bootstrap, fill(bus, messages), messages);
        } else {
          c = rawConsume(bootstrap, fill(bus, messages), messages);
          d = busConsume(bus, fill(bus, messages), messages);
        }
        deleteTopics(admin);
        String phase = r < 0 ? "warmup" : "measured";
        System.out.printf(
            Locale.ROOT,
            "%s run %d: publish raw %,.0f polybus %,.0f rec/s; consume raw %,.0f "
                + "polybus %,.0f rec/s%n",
            phase,
            Math.abs(r),
            a,
            b,
            c,
            d);
        if (r >= 0) {
          rawPub[r] = a;
          busPub[r] = b;
          rawCon[r] = c;
          busCon[r] = d;
        }
      }
    }
    // The median of per-run ratios moves least with load coming and going on a shared machine.
    System.out.printf(
        Locale.ROOT,
        "median publish: raw %,.0f, polybus %,.0f rec/s, ratio of medians %.2f, "
            + "median of per-run ratios %.2f%n",
        Stats.median(rawPub),
        Stats.median(busPub),
        Stats.median(busPub) / Stats.median(rawPub),
        Stats.median(Stats.ratios(busPub, rawPub)));
    System.out.printf(
        Locale.ROOT,
        "median consume: raw %,.0f, polybus %,.0f rec/s, ratio of medians %.2f, "
            + "median of per-run ratios %.2f%n",
        Stats.median(rawCon),
        Stats.median(busCon),
        Stats.median(busCon) / Stats.median(rawCon),
        Stats.median(Stats.ratios(busCon, rawCon)));
  }

  static Map<String, Object> producerConfig(String bootstrap) {
    return Map.of(
        "bootstrap.servers",
        bootstrap,
        "acks",
        "all",
        "enable.idempotence",
        "true",
        "linger.ms",
        "5",
        "batch.size",
        "65536");
  }

  /** Topics of the current run, deleted when it ends. */
  private static final List<String> CREATED = new ArrayList<>();

  /**
   * Deletes the run's topics: a run writes four topics of {@code --messages} records, and a session
   * of benchmark invocations that kept them filled this machine's disk (79 GB of broker data).
   */
  private static void deleteTopics(Admin admin) throws Exception {
    admin.deleteTopics(CREATED).all().get(60, TimeUnit.SECONDS);
    CREATED.clear();
  }

  private static String newTopic(Polybus bus, String prefix) {
    String topic = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    CREATED.add(topic);
    // Creates the topic with the bus's partitions, outside the measured time.
    bus.publishAndWait(topic, Message.builder().key("warm").payload(new byte[PAYLOAD]).build());
    return topic;
  }

  private static double rawPublish(
      KafkaProducer<byte[], byte[]> producer, Polybus bus, int n, int window, boolean idHeader)
      throws Exception {
    String topic = newTopic(bus, "bench-raw-pub");
    byte[][] keys = keys();
    Semaphore room = new Semaphore(window);
    CountDownLatch done = new CountDownLatch(n);
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      room.acquire();
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(topic, keys[i % KEYS], new byte[PAYLOAD]);
      if (idHeader) {
        // The same work as Polybus: every record carries a unique id, in the header Polybus uses.
        record.headers().add("polybus-id", id(i));
      }
      producer.send(
          record,
          (md, e) -> {
            room.release();
            done.countDown();
          });
    }
    done.await();
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  private static double busPublish(Polybus bus, int n, int window) throws Exception {
    String topic = newTopic(bus, "bench-bus-pub");
    String[] keys = keyStrings(); // as the raw side's keys: made once, not per record
    Semaphore room = new Semaphore(window);
    List<CompletableFuture<List<PublishReceipt>>> last = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i += 1000) {
      int size = Math.min(1000, n - i);
      List<Message> batch = new ArrayList<>(size);
      for (int j = 0; j < size; j++) {
        batch.add(Message.builder().key(keys[(i + j) % KEYS]).payload(new byte[PAYLOAD]).build());
      }
      room.acquire(size);
      CompletableFuture<List<PublishReceipt>> f = bus.publishAll(topic, batch);
      f.whenComplete((ok, e) -> room.release(size));
      last.add(f);
      if (last.size() > 100) {
        last.remove(0)
            .join(); // keeps the receipts of at most 100 calls alive, not of the whole run
      }
    }
    CompletableFuture.allOf(last.toArray(new CompletableFuture<?>[0])).join();
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  /**
   * A topic with {@code n} Polybus records (so both consumers read the same records), not measured.
   */
  private static String fill(Polybus bus, int n) {
    String topic = newTopic(bus, "bench-con");
    List<CompletableFuture<List<PublishReceipt>>> all = new ArrayList<>();
    for (int i = 0; i < n; i += 1000) {
      List<Message> batch = new ArrayList<>(1000);
      for (int j = 0; j < Math.min(1000, n - i); j++) {
        batch.add(
            Message.builder().key("key-" + ((i + j) % KEYS)).payload(new byte[PAYLOAD]).build());
      }
      all.add(bus.publishAll(topic, batch));
      if (all.size() > 2) {
        all.remove(0).join();
      }
    }
    all.forEach(CompletableFuture::join);
    return topic;
  }

  private static double rawConsume(String bootstrap, String topic, int n) {
    // Timed from before the consumer is built, as the Polybus side is timed from before subscribe
    // (which builds its
    // consumer): both pay for one consumer's construction and group join.
    long t0 = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers",
                bootstrap,
                "group.id",
                "raw-" + UUID.randomUUID(),
                "auto.offset.reset",
                "earliest",
                "enable.auto.commit",
                "false"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long seen = 0;
      long bytes = 0;
      while (seen < n + 1) { // the record that created the topic, then n
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<byte[], byte[]> r : records) {
          bytes += r.value().length; // touch the record, as a handler would
          seen++;
        }
        if (!records.isEmpty()) {
          consumer.commitAsync();
        }
      }
      double rate = n / ((System.nanoTime() - t0) / 1e9);
      if (bytes < 0) {
        throw new AssertionError();
      }
      return rate;
    }
  }

  private static double busConsume(Polybus bus, String topic, int n) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong seen = new AtomicLong();
    long t0 = System.nanoTime();
    Subscription s =
        bus.subscribe(
            topic,
            "bus-" + UUID.randomUUID().toString().substring(0, 8),
            d -> {
              int size = d.message().payloadSize(); // touch the record, as the raw side does
              if (seen.incrementAndGet() == n + 1
                  || size < 0) { // the record that created the topic, then n
                done.countDown();
              }
            },
            SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).maxInFlight(4096).build());
    done.await(10, TimeUnit.MINUTES);
    double rate = n / ((System.nanoTime() - t0) / 1e9);
    s.close();
    return rate;
  }

  /** A 26-byte id, as long as a Polybus id, cheaply. */
  private static byte[] id(long n) {
    byte[] b = new byte[26];
    Arrays.fill(b, (byte) '0');
    for (int i = 25; n > 0; i--, n /= 10) {
      b[i] = (byte) ('0' + n % 10);
    }
    return b;
  }

  private static String[] keyStrings() {
    String[] k = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      k[i] = "key-" + i;
    }
    return k;
  }

  private static byte[][] keys() {
    byte[][] k = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      k[i] = ("key-" + i).getBytes(StandardCharsets.UTF_8);
    }
    return k;
  }
}
