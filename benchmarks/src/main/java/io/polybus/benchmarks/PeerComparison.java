package io.polybus.benchmarks;

import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.util.backoff.FixedBackOff;

/**
 * The Kafka backend next to the consumers a Java team would pick instead (issue 22), side by side
 * in one run on one broker: Confluent Parallel Consumer, spring-kafka's listener container and, for
 * the no-op scenario, a raw {@code KafkaConsumer} poll loop.
 *
 * <p>Scenarios (100-byte values, 4 partitions; message {@code i} has key {@code i % keys}, so each
 * key's messages are spread over the whole topic):
 *
 * <ul>
 *   <li>{@code A}: 100,000 messages, 10,000 keys {@code key-0 .. key-9999}, the handler sleeps 1
 *       ms, key order, 64 handler threads (Polybus {@code concurrency}, Parallel Consumer {@code
 *       maxConcurrency}); spring-kafka with {@code --spring-concurrency} (4: one consumer per
 *       partition, more would idle).
 *   <li>{@code A-hex}: as A with 10,000 random 16-hex-digit keys.
 *   <li>{@code B}: 2,000,000 messages, 1,000 keys, a no-op handler: Polybus with 1 thread, Parallel
 *       Consumer with its 64 (with 1 it waits for every hand-off: 7K msg/s), the raw loop ({@code
 *       poll} + {@code commitAsync} per poll), spring-kafka with {@code AckMode.TIME} (100 ms) and
 *       asynchronous commits.
 *   <li>{@code C}: as A but 50,000 messages by default (spring-kafka's blocking back-offs make a
 *       round of 100,000 last ~100 s), and 1 % of the messages (chosen by a fixed seed) fail once,
 *       at once, and are retried after a fixed 200 ms back-off (Polybus: its retry policy; Parallel
 *       Consumer: {@code defaultMessageRetryDelay}; spring-kafka: {@code DefaultErrorHandler} with
 *       {@code FixedBackOff}, which blocks the partition's consumer thread for the back-off).
 * </ul>
 *
 * <p>Every system reads a topic of its own, created with 4 partitions and filled with the same
 * records (by one producer, so the same partitions and order) just before it starts: each reads a
 * freshly filled topic (this machine's page cache gives written data back within seconds). A run is
 * timed from before the system's consumer is built (group join included) to the end of the last
 * message's first successful handling. The order of the systems rotates from round to round; {@code
 * --warmup} rounds are discarded; medians of {@code --rounds} and the median of the per-round
 * ratios Polybus/peer are printed. Topics and groups are deleted after each round.
 *
 * <p>Every handling of every system goes through one check ({@link Run#handle}): per key, the
 * sequence number in the payload must be the previous one plus one (an order violation otherwise),
 * and no two handlings of a key may overlap (a concurrency violation); every system here promises
 * key order, so either ends the run with an error. Duplicates (redeliveries) are counted, not
 * failed.
 *
 * <p>With the 1 ms handler (A, C) each handling's start and end are kept, and a never-failing key's
 * stall is computed with {@link OvertakenTime}: the sum over its messages of the time each waited,
 * after becoming ready (its key's previous message done; the run's start for a key's first), while
 * handler threads worked on messages that became ready after it, divided by the threads. In C, the
 * fail→retry latency (from the failed attempt's end to the retry's start) goes into an
 * HdrHistogram.
 *
 * <p>Usage: {@code PeerComparison [--scenario A,A-hex,B,C] [--messages N (all chosen scenarios)]
 * [--rounds 3] [--warmup 1] [--systems polybus,pc,spring,raw] [--threads 64] [--max-in-flight 4096]
 * [--spring-concurrency 4] [--bootstrap 127.0.0.1:9092] [--timeout-seconds 600] [--pc-ordering
 * KEY]}. Not thread-safe; one run per JVM.
 */
public final class PeerComparison {
  private static final int PAYLOAD = 100;
  private static final int PARTITIONS = 4;
  private static final Duration BACKOFF = Duration.ofMillis(200);

  enum Scenario {
    A("A", 100_000, 10_000, false, true, false),
    A_HEX("A-hex", 100_000, 10_000, true, true, false),
    B("B", 2_000_000, 1_000, false, false, false),
    C("C", 50_000, 10_000, false, true, true);

    final String label;
    final int defaultMessages;
    final int keys;
    final boolean hexKeys;

    /** The handler sleeps 1 ms; handlings are recorded for the stall figures. */
    final boolean slow;

    /** 1 % of the messages fail once. */
    final boolean fails;

    Scenario(
        String label, int defaultMessages, int keys, boolean hexKeys, boolean slow, boolean fails) {
      this.label = label;
      this.defaultMessages = defaultMessages;
      this.keys = keys;
      this.hexKeys = hexKeys;
      this.slow = slow;
      this.fails = fails;
    }

    static Scenario parse(String s) {
      for (Scenario sc : values()) {
        if (sc.label.equalsIgnoreCase(s) || sc.name().equalsIgnoreCase(s)) {
          return sc;
        }
      }
      throw new IllegalArgumentException("unknown scenario " + s + " (A, A-hex, B, C)");
    }

    /** The systems measured when {@code --systems} is not given (spring-kafka's A-hex is A's). */
    List<Peer> defaultPeers() {
      switch (this) {
        case A:
        case C:
          return List.of(Peer.POLYBUS, Peer.PC, Peer.SPRING);
        case A_HEX:
          return List.of(Peer.POLYBUS, Peer.PC);
        default:
          return List.of(Peer.POLYBUS, Peer.RAW, Peer.PC, Peer.SPRING);
      }
    }
  }

  enum Peer {
    POLYBUS("polybus", "Polybus"),
    PC("pc", "Parallel Consumer 0.5.3.3"),
    SPRING("spring", "spring-kafka 4.0.8"),
    RAW("raw", "raw KafkaConsumer");

    final String flag;
    final String title;

    Peer(String flag, String title) {
      this.flag = flag;
      this.title = title;
    }

    static Peer parse(String s) {
      for (Peer p : values()) {
        if (p.flag.equalsIgnoreCase(s)) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown system " + s + " (polybus, pc, spring, raw)");
    }
  }

  private String bootstrap = "127.0.0.1:9092";
  private List<Scenario> scenarios = List.of(Scenario.values());
  private int messages = -1;
  private int rounds = 3;
  private int warmup = 1;
  private List<Peer> systems;
  private int threads = 64;
  private int maxInFlight = 4096;
  private int springConcurrency = 4;
  private long timeoutSeconds = 600;

  /** KEY; UNORDERED only to see the order check fail (it does: the run ends with an error). */
  private ParallelConsumerOptions.ProcessingOrder pcOrdering =
      ParallelConsumerOptions.ProcessingOrder.KEY;

  /** Names every topic and group of this invocation starts with, so that cleanup finds them all. */
  private final String prefix = "peers-" + UUID.randomUUID().toString().substring(0, 6);

  private final List<String> topics = new ArrayList<>();
  private final List<String> groups = new ArrayList<>();
  private Admin admin;
  private KafkaProducer<byte[], byte[]> producer;

  public static void main(String[] args) throws Exception {
    PeerComparison pc = new PeerComparison();
    pc.parse(args);
    pc.runAll(args);
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--bootstrap":
          bootstrap = v;
          break;
        case "--scenario":
        case "--scenarios":
          List<Scenario> sc = new ArrayList<>();
          for (String s : v.split(",")) {
            if (s.equalsIgnoreCase("all")) {
              sc.addAll(List.of(Scenario.values()));
            } else {
              sc.add(Scenario.parse(s.trim()));
            }
          }
          scenarios = sc;
          break;
        case "--messages":
          messages = Integer.parseInt(v);
          break;
        case "--rounds":
          rounds = Integer.parseInt(v);
          break;
        case "--warmup":
          warmup = Integer.parseInt(v);
          break;
        case "--systems":
          List<Peer> ps = new ArrayList<>();
          for (String s : v.split(",")) {
            ps.add(Peer.parse(s.trim()));
          }
          systems = ps;
          break;
        case "--threads":
          threads = Integer.parseInt(v);
          break;
        case "--max-in-flight":
          maxInFlight = Integer.parseInt(v);
          break;
        case "--spring-concurrency":
          springConcurrency = Integer.parseInt(v);
          break;
        case "--timeout-seconds":
          timeoutSeconds = Long.parseLong(v);
          break;
        case "--pc-ordering":
          pcOrdering = ParallelConsumerOptions.ProcessingOrder.valueOf(v.toUpperCase(Locale.ROOT));
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (rounds < 1 || warmup < 0) {
      throw new IllegalArgumentException("--rounds must be at least 1 and --warmup at least 0");
    }
  }

  private void runAll(String[] args) throws Exception {
    System.out.printf(
        Locale.ROOT,
        "PeerComparison %s, started %s, load average %s, %d cores%n",
        String.join(" ", args),
        Instant.now(),
        loadAverage(),
        Runtime.getRuntime().availableProcessors());
    System.out.printf(
        Locale.ROOT,
        "settings: rounds %d after %d warm-up; threads %d (Polybus in A/C, Parallel Consumer always);"
            + " Polybus maxInFlight %d; spring-kafka concurrency %d; %s%n",
        rounds,
        warmup,
        threads,
        maxInFlight,
        springConcurrency,
        System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    long began = System.nanoTime();
    Map<Scenario, Map<Peer, Results>> all = new LinkedHashMap<>();
    admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
    producer =
        new KafkaProducer<>(
            KafkaThroughput.producerConfig(bootstrap),
            new ByteArraySerializer(),
            new ByteArraySerializer());
    try {
      for (Scenario sc : scenarios) {
        all.put(sc, runScenario(sc));
      }
    } finally {
      cleanup();
      deleteLeftovers();
      producer.close();
      admin.close();
    }
    System.out.printf(
        Locale.ROOT,
        "%nfinished %s after %.0f s, load average %s%n",
        Instant.now(),
        (System.nanoTime() - began) / 1e9,
        loadAverage());
    for (Map.Entry<Scenario, Map<Peer, Results>> e : all.entrySet()) {
      printSummary(e.getKey(), e.getValue());
    }
    System.out.flush();
    // A peer's library leaves a non-daemon thread behind (the full run of 2026-12-03 printed its
    // tables and then did not exit for ten minutes): every system was closed above, so end here.
    System.exit(0);
  }

  private Map<Peer, Results> runScenario(Scenario sc) throws Exception {
    int n = messages > 0 ? messages : sc.defaultMessages;
    Workload w = new Workload(sc, n);
    List<Peer> peers = systems != null ? systems : sc.defaultPeers();
    Map<Peer, Results> results = new EnumMap<>(Peer.class);
    for (Peer p : peers) {
      results.put(p, new Results(rounds));
    }
    System.out.printf(
        Locale.ROOT,
        "%nscenario %s: %,d messages, %,d keys%s, %s handler, %d failing once; systems %s%n",
        sc.label,
        n,
        sc.keys,
        sc.hexKeys ? " (hex)" : "",
        sc.slow ? "1 ms" : "no-op",
        w.failing,
        peers);
    for (int r = -warmup; r < rounds; r++) {
      int round = r + warmup;
      List<Peer> order = new ArrayList<>(peers);
      // Rotated so that each system goes first, second, ... in turn: whatever the first of a round
      // pays for or leaves behind (JIT, GC, the broker's page cache) falls on all of them alike.
      java.util.Collections.rotate(order, -(round % order.size()));
      List<String> violations = new ArrayList<>();
      StringBuilder line =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "%s %s %d:",
                  sc.label,
                  r < 0 ? "warmup" : "round",
                  r < 0 ? -r : r + 1));
      try {
        for (Peer p : order) {
          String topic = newTopic(sc, p);
          fill(topic, w);
          Run run = new Run(w);
          double rate = consume(p, sc, topic, run);
          RunFigures f = run.figures(rate, threadsOf(p, sc));
          line.append(String.format(Locale.ROOT, "%n  %-8s %s", p.flag, f));
          if (run.orderViolations.sum() > 0 || run.concurrentViolations.sum() > 0) {
            violations.add(
                p.title
                    + ": "
                    + run.orderViolations.sum()
                    + " order violations, "
                    + run.concurrentViolations.sum()
                    + " overlapping handlings of one key");
          }
          if (r >= 0) {
            results.get(p).put(r, f);
          }
        }
      } finally {
        cleanup();
      }
      System.out.println(line);
      if (!violations.isEmpty()) {
        // Every system measured here promises per-key order: a violation makes its figures (and
        // the comparison) meaningless.
        throw new AssertionError("KEY ORDER VIOLATED in scenario " + sc.label + ": " + violations);
      }
    }
    return results;
  }

  /** Handler threads of a system in a scenario: what the stall figures divide by. */
  private int threadsOf(Peer p, Scenario sc) {
    switch (p) {
      case SPRING:
        return springConcurrency;
      case RAW:
        return 1;
      case PC:
        // Parallel Consumer hands records to its pool one at a time; with one thread it waits for
        // each hand-off (7K msg/s here in B), so it keeps its threads in B too.
        return threads;
      default:
        return sc.slow ? threads : 1;
    }
  }

  // ---------------------------------------------------------------- the systems

  /** Consumes {@code topic} with {@code p} until every message was handled; returns msg/s. */
  private double consume(Peer p, Scenario sc, String topic, Run run) throws Exception {
    String group = prefix + "-" + p.flag + "-" + UUID.randomUUID().toString().substring(0, 8);
    groups.add(group);
    switch (p) {
      case POLYBUS:
        return polybus(sc, topic, group, run);
      case PC:
        return parallelConsumer(sc, topic, group, run);
      case SPRING:
        return springKafka(sc, topic, group, run);
      case RAW:
        return raw(topic, group, run);
      default:
        throw new AssertionError(p);
    }
  }

  private double polybus(Scenario sc, String topic, String group, Run run) throws Exception {
    SubscribeOptions options =
        SubscribeOptions.builder()
            .concurrency(threadsOf(Peer.POLYBUS, sc))
            .maxInFlight(maxInFlight)
            .ordering(Ordering.KEY)
            .startFrom(StartFrom.EARLIEST)
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(5)
                    .initialBackoff(BACKOFF)
                    .multiplier(1.0)
                    .maxBackoff(BACKOFF)
                    .jitter(0)
                    .build())
            .build();
    // The bus (producer, admin client) is the running application's: connected before the clock;
    // subscribe builds the consumer and joins the group, as the peers do inside the clock.
    try (Polybus bus = Polybus.connect("kafka://" + bootstrap + "?partitions=" + PARTITIONS)) {
      long t0 = run.start();
      Subscription s = bus.subscribe(topic, group, d -> run.handle(d.message().payload()), options);
      try {
        return run.await(t0, timeoutSeconds);
      } finally {
        s.close();
      }
    }
  }

  private double parallelConsumer(Scenario sc, String topic, String group, Run run)
      throws Exception {
    long t0 = run.start();
    KafkaConsumer<byte[], byte[]> consumer = newConsumer(group);
    ParallelConsumerOptions<byte[], byte[]> options =
        ParallelConsumerOptions.<byte[], byte[]>builder()
            .consumer(consumer)
            .ordering(pcOrdering)
            .maxConcurrency(threadsOf(Peer.PC, sc))
            .commitMode(ParallelConsumerOptions.CommitMode.PERIODIC_CONSUMER_ASYNCHRONOUS)
            .defaultMessageRetryDelay(BACKOFF)
            .build();
    ParallelStreamProcessor<byte[], byte[]> pc =
        ParallelStreamProcessor.createEosStreamProcessor(options);
    try {
      pc.subscribe(List.of(topic));
      pc.poll(ctx -> run.handle(ctx.getSingleConsumerRecord().value()));
      return run.await(t0, timeoutSeconds);
    } finally {
      pc.closeDontDrainFirst(Duration.ofSeconds(30)); // closes the consumer too
    }
  }

  private double springKafka(Scenario sc, String topic, String group, Run run) throws Exception {
    long t0 = run.start();
    Map<String, Object> props = new HashMap<>(consumerConfig(group));
    DefaultKafkaConsumerFactory<byte[], byte[]> factory =
        new DefaultKafkaConsumerFactory<>(
            props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    ContainerProperties cp = new ContainerProperties(topic);
    cp.setMessageListener((MessageListener<byte[], byte[]>) rec -> run.handle(rec.value()));
    if (!sc.slow) {
      // B: the fastest setting a team would reach for: commit on a timer, asynchronously.
      cp.setAckMode(ContainerProperties.AckMode.TIME);
      cp.setAckTime(100);
      cp.setSyncCommits(false);
    }
    ConcurrentMessageListenerContainer<byte[], byte[]> container =
        new ConcurrentMessageListenerContainer<>(factory, cp);
    container.setConcurrency(springConcurrency);
    container.setBeanName(group);
    // Blocking retries (spring-kafka's default error handler), with the scenario's back-off.
    container.setCommonErrorHandler(
        new DefaultErrorHandler(new FixedBackOff(BACKOFF.toMillis(), 4)));
    container.start();
    try {
      return run.await(t0, timeoutSeconds);
    } finally {
      container.stop();
    }
  }

  private double raw(String topic, String group, Run run) {
    long t0 = run.start();
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer(group)) {
      consumer.subscribe(List.of(topic));
      long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSeconds);
      while (!run.isDone()) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<byte[], byte[]> r : records) {
          run.handle(r.value());
        }
        if (!records.isEmpty()) {
          consumer.commitAsync();
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("raw consumer: " + run.progress());
        }
      }
      return run.rate(t0);
    }
  }

  private Map<String, Object> consumerConfig(String group) {
    return Map.of(
        "bootstrap.servers",
        bootstrap,
        "group.id",
        group,
        "auto.offset.reset",
        "earliest",
        "enable.auto.commit",
        "false");
  }

  private KafkaConsumer<byte[], byte[]> newConsumer(String group) {
    return new KafkaConsumer<>(
        consumerConfig(group), new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  // ---------------------------------------------------------------- topics

  private String newTopic(Scenario sc, Peer p) throws Exception {
    String topic =
        prefix
            + "-"
            + sc.label.toLowerCase(Locale.ROOT)
            + "-"
            + p.flag
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
    topics.add(topic);
    admin
        .createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1)))
        .all()
        .get(60, TimeUnit.SECONDS);
    awaitPartitionsReady(topic);
    return topic;
  }

  /**
   * Waits until every partition of a topic just created has a leader that answers for it: the
   * controller confirms a creation before the broker has loaded the partitions, and an idempotent
   * producer whose first batches race with that load stalls until they expire (seen here: 120 s;
   * the Kafka backend waits the same way).
   */
  private void awaitPartitionsReady(String topic) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        TopicDescription d =
            admin
                .describeTopics(List.of(topic))
                .allTopicNames()
                .get(10, TimeUnit.SECONDS)
                .get(topic);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        boolean leaders = true;
        for (TopicPartitionInfo p : d.partitions()) {
          leaders &= p.leader() != null && !p.leader().isEmpty();
          latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        }
        if (leaders) {
          admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
          return;
        }
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            && !(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException)) {
          throw e;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topic " + topic + " has partitions without a leader");
      }
      Thread.sleep(50);
    }
  }

  /**
   * Writes the workload's records to {@code topic}: one producer, sent in index order, so every
   * system's topic holds the same records in the same partitions in the same order. Each carries a
   * 26-byte {@code polybus-id} header, as a record Polybus published would; the peers read the same
   * bytes and ignore it.
   */
  private void fill(String topic, Workload w) throws Exception {
    AtomicReference<Exception> failed = new AtomicReference<>();
    for (int i = 0; i < w.n; i++) {
      byte[] value = new byte[PAYLOAD];
      value[0] = (byte) (i >>> 24);
      value[1] = (byte) (i >>> 16);
      value[2] = (byte) (i >>> 8);
      value[3] = (byte) i;
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(topic, w.keyBytes[w.key(i)], value);
      record.headers().add("polybus-id", id(i));
      producer.send(
          record,
          (md, e) -> {
            if (e != null) {
              failed.compareAndSet(null, e);
            }
          });
    }
    producer.flush();
    if (failed.get() != null) {
      throw failed.get();
    }
  }

  /** Deletes the round's topics and groups (a session of kept topics once filled the disk). */
  private void cleanup() throws Exception {
    if (!groups.isEmpty()) {
      try {
        admin.deleteConsumerGroups(groups).all().get(60, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        System.err.println("could not delete every group: " + e.getCause());
      }
      groups.clear();
    }
    if (!topics.isEmpty()) {
      admin.deleteTopics(topics).all().get(60, TimeUnit.SECONDS);
      topics.clear();
    }
  }

  /** Topics a system made on its own under this invocation's prefix (dead-letter topics, say). */
  private void deleteLeftovers() throws Exception {
    Set<String> left = new HashSet<>();
    for (String t : admin.listTopics().names().get(60, TimeUnit.SECONDS)) {
      if (t.startsWith(prefix)) {
        left.add(t);
      }
    }
    if (!left.isEmpty()) {
      admin.deleteTopics(left).all().get(60, TimeUnit.SECONDS);
    }
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

  private static String loadAverage() {
    try {
      String[] f =
          new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg")))
              .split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  // ---------------------------------------------------------------- workload and checks

  /** The messages of a scenario: keys, per-key sequence numbers, which ones fail once. */
  static final class Workload {
    final Scenario scenario;
    final int n;
    final int keys;
    final byte[][] keyBytes;
    final BitSet fails = new BitSet();
    final BitSet failingKeys = new BitSet();
    final int failing;

    Workload(Scenario sc, int n) {
      this.scenario = sc;
      this.n = n;
      this.keys = sc.keys;
      keyBytes = new byte[keys][];
      SplittableRandom random = new SplittableRandom(22);
      Set<String> seen = new HashSet<>();
      for (int k = 0; k < keys; k++) {
        String name;
        if (sc.hexKeys) {
          do {
            name = String.format(Locale.ROOT, "%016x", random.nextLong());
          } while (!seen.add(name));
        } else {
          name = "key-" + k;
        }
        keyBytes[k] = name.getBytes(StandardCharsets.UTF_8);
      }
      int f = 0;
      if (sc.fails) {
        SplittableRandom pick = new SplittableRandom(2222);
        for (int i = 0; i < n; i++) {
          if (pick.nextInt(100) == 0) {
            fails.set(i);
            failingKeys.set(key(i));
            f++;
          }
        }
      }
      failing = f;
    }

    int key(int index) {
      return index % keys;
    }

    int seq(int index) {
      return index / keys;
    }
  }

  /**
   * The failure a failing message's first attempt throws. Without a stack trace: it is expected.
   */
  static final class InjectedFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InjectedFailure() {
      super("injected failure (fails once)", null, false, false);
    }
  }

  private static final InjectedFailure FAILURE = new InjectedFailure();

  /**
   * One system's run over a workload: the check every handling goes through, and what it records.
   *
   * <p>{@link #handle} is called by the system's handler threads; per-key state (last sequence
   * number, failed-once flags, times) is plain, because a system that keeps key order hands a key's
   * messages over with a happens-before edge, and one that does not is caught by {@link #busy}.
   */
  static final class Run {
    final Workload w;
    final boolean timeline;
    final byte[] handled;
    final int[] lastSeq;
    final AtomicIntegerArray busy;
    final boolean[] failedOnce;
    final long[] start;
    final long[] end;
    final long[] failStart;
    final long[] failEnd;
    final AtomicInteger remaining;
    final CountDownLatch done = new CountDownLatch(1);
    final LongAdder orderViolations = new LongAdder();
    final LongAdder concurrentViolations = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final Histogram retryMicros = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
    volatile long t0;
    volatile long doneAt;

    Run(Workload w) {
      this.w = w;
      this.timeline = w.scenario.slow;
      handled = new byte[w.n];
      lastSeq = new int[w.keys];
      Arrays.fill(lastSeq, -1);
      busy = new AtomicIntegerArray(w.keys);
      failedOnce = w.failing > 0 ? new boolean[w.n] : null;
      start = timeline ? new long[w.n] : null;
      end = timeline ? new long[w.n] : null;
      failStart = w.failing > 0 ? new long[w.n] : null;
      failEnd = w.failing > 0 ? new long[w.n] : null;
      remaining = new AtomicInteger(w.n);
    }

    long start() {
      t0 = System.nanoTime();
      return t0;
    }

    /** The common handler: checks order, fails a failing message's first attempt, does the work. */
    void handle(byte[] value) {
      long t = System.nanoTime();
      int idx =
          ((value[0] & 0xff) << 24)
              | ((value[1] & 0xff) << 16)
              | ((value[2] & 0xff) << 8)
              | (value[3] & 0xff);
      int k = w.key(idx);
      if (busy.incrementAndGet(k) != 1) {
        concurrentViolations.increment();
      }
      try {
        if (failedOnce != null && w.fails.get(idx)) {
          if (!failedOnce[idx]) {
            failedOnce[idx] = true;
            failStart[idx] = t;
            failEnd[idx] = System.nanoTime();
            throw FAILURE;
          }
          if (handled[idx] == 0) {
            synchronized (retryMicros) {
              retryMicros.recordValue(Math.max(0, (t - failEnd[idx]) / 1000));
            }
          }
        }
        if (timeline) {
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted in the handler", e);
          }
        }
        int s = w.seq(idx);
        boolean first = handled[idx] == 0;
        if (!first) {
          duplicates.increment();
        } else if (s != lastSeq[k] + 1) {
          orderViolations.increment();
        }
        if (s > lastSeq[k]) {
          lastSeq[k] = s;
        }
        if (first) {
          handled[idx] = 1;
          long e = System.nanoTime();
          if (timeline) {
            start[idx] = t;
            end[idx] = e;
          }
          if (remaining.decrementAndGet() == 0) {
            doneAt = e;
            done.countDown();
          }
        }
      } finally {
        busy.decrementAndGet(k);
      }
    }

    boolean isDone() {
      return done.getCount() == 0;
    }

    double await(long t0, long timeoutSeconds) throws InterruptedException {
      if (!done.await(timeoutSeconds, TimeUnit.SECONDS)) {
        throw new IllegalStateException("timed out: " + progress());
      }
      return rate(t0);
    }

    double rate(long t0) {
      return w.n / ((doneAt - t0) / 1e9);
    }

    String progress() {
      return (w.n - remaining.get()) + " of " + w.n + " messages handled";
    }

    /** The run's figures, stalls computed with {@code threads} handler threads. */
    RunFigures figures(double rate, int threads) {
      double retryP50 = Double.NaN;
      double retryP99 = Double.NaN;
      if (w.failing > 0) {
        retryP50 = retryMicros.getValueAtPercentile(50) / 1000.0;
        retryP99 = retryMicros.getValueAtPercentile(99) / 1000.0;
      }
      double stallP50 = Double.NaN;
      double stallMax = Double.NaN;
      if (timeline) {
        double[] stalls = keyStallsMillis(threads);
        if (stalls.length > 0) {
          double[] sorted = stalls.clone();
          Arrays.sort(sorted);
          stallP50 = Stats.median(sorted);
          stallMax = sorted[sorted.length - 1];
        }
      }
      return new RunFigures(
          rate,
          stallP50,
          stallMax,
          retryP50,
          retryP99,
          duplicates.sum(),
          orderViolations.sum() + concurrentViolations.sum());
    }

    /** Per never-failing key, its stall in ms (see the class doc and {@link OvertakenTime}). */
    double[] keyStallsMillis(int threads) {
      int n = w.n;
      OvertakenTime ot = new OvertakenTime(n + w.failing);
      long backoff = BACKOFF.toNanos();
      List<long[]> queries = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        long ready = w.seq(i) == 0 ? t0 : end[i - w.keys];
        if (failEnd != null && w.fails.get(i)) {
          ot.handling(ready - t0, failStart[i] - t0, failEnd[i] - t0);
          // The retry is ready when its back-off is over.
          ot.handling(failEnd[i] + backoff - t0, start[i] - t0, end[i] - t0);
        } else {
          ot.handling(ready - t0, start[i] - t0, end[i] - t0);
        }
        if (!w.failingKeys.get(w.key(i))) {
          queries.add(new long[] {ready - t0, start[i] - t0, w.key(i)});
        }
      }
      long[] qr = new long[queries.size()];
      long[] qs = new long[queries.size()];
      for (int i = 0; i < qr.length; i++) {
        qr[i] = queries.get(i)[0];
        qs[i] = queries.get(i)[1];
      }
      double[] per = ot.overtaken(qr, qs, threads);
      double[] byKey = new double[w.keys];
      for (int i = 0; i < qr.length; i++) {
        byKey[(int) queries.get(i)[2]] += per[i];
      }
      int present = Math.min(w.keys, n); // with fewer messages than keys, some keys have none
      double[] out = new double[present - w.failingKeys.cardinality()];
      int j = 0;
      for (int k = 0; k < present; k++) {
        if (!w.failingKeys.get(k)) {
          out[j++] = byKey[k] / 1e6;
        }
      }
      return out;
    }
  }

  /** One system's figures in one round. */
  static final class RunFigures {
    final double rate;
    final double stallP50Ms;
    final double stallMaxMs;
    final double retryP50Ms;
    final double retryP99Ms;
    final long duplicates;
    final long violations;

    RunFigures(
        double rate,
        double stallP50Ms,
        double stallMaxMs,
        double retryP50Ms,
        double retryP99Ms,
        long duplicates,
        long violations) {
      this.rate = rate;
      this.stallP50Ms = stallP50Ms;
      this.stallMaxMs = stallMaxMs;
      this.retryP50Ms = retryP50Ms;
      this.retryP99Ms = retryP99Ms;
      this.duplicates = duplicates;
      this.violations = violations;
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%,12.0f msg/s", rate));
      if (!Double.isNaN(stallMaxMs)) {
        b.append(
            String.format(
                Locale.ROOT,
                "; stall of never-failing keys p50 %,.1f ms, max %,.1f ms",
                stallP50Ms,
                stallMaxMs));
      }
      if (!Double.isNaN(retryP50Ms)) {
        b.append(
            String.format(
                Locale.ROOT, "; fail->retry p50 %,.1f ms, p99 %,.1f ms", retryP50Ms, retryP99Ms));
      }
      b.append(
          String.format(
              Locale.ROOT, "; duplicates %d; order violations %d", duplicates, violations));
      return b.toString();
    }
  }

  /** A system's figures over the measured rounds of a scenario. */
  static final class Results {
    final double[] rate;
    final double[] stallP50;
    final double[] stallMax;
    final double[] retryP50;
    final double[] retryP99;
    long duplicates;

    Results(int rounds) {
      rate = new double[rounds];
      stallP50 = new double[rounds];
      stallMax = new double[rounds];
      retryP50 = new double[rounds];
      retryP99 = new double[rounds];
    }

    void put(int round, RunFigures f) {
      rate[round] = f.rate;
      stallP50[round] = f.stallP50Ms;
      stallMax[round] = f.stallMaxMs;
      retryP50[round] = f.retryP50Ms;
      retryP99[round] = f.retryP99Ms;
      duplicates += f.duplicates;
    }
  }

  private void printSummary(Scenario sc, Map<Peer, Results> results) {
    System.out.printf(
        Locale.ROOT,
        "%nscenario %s, medians of %d rounds (after %d warm-up):%n",
        sc.label,
        rounds,
        warmup);
    System.out.println(
        "| system | msg/s | Polybus/system (median of per-round ratios) | stall of never-failing keys"
            + " p50 / max, ms | fail->retry p50 / p99, ms | duplicates |");
    System.out.println("|---|---|---|---|---|---|");
    Results bus = results.get(Peer.POLYBUS);
    for (Map.Entry<Peer, Results> e : results.entrySet()) {
      Results r = e.getValue();
      String ratio =
          bus == null || e.getKey() == Peer.POLYBUS
              ? "—"
              : String.format(Locale.ROOT, "%.2f", Stats.medianRatio(bus.rate, r.rate));
      String stall =
          Double.isNaN(r.stallMax[0])
              ? "—"
              : String.format(
                  Locale.ROOT, "%,.1f / %,.1f", Stats.median(r.stallP50), Stats.median(r.stallMax));
      String retry =
          Double.isNaN(r.retryP50[0])
              ? "—"
              : String.format(
                  Locale.ROOT, "%,.1f / %,.1f", Stats.median(r.retryP50), Stats.median(r.retryP99));
      System.out.printf(
          Locale.ROOT,
          "| %s | %,.0f | %s | %s | %s | %d |%n",
          e.getKey().title,
          Stats.median(r.rate),
          ratio,
          stall,
          retry,
          r.duplicates);
    }
  }
}
