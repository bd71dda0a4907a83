package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * Issue 21: concurrent single publishes on the SQS backend next to plain AWS SDK code with the same
 * concurrency, standard and FIFO queues, 100-byte text payloads, keys over 1000 keys.
 *
 * <p>For each mode and each concurrency N ({@code --concurrency 1,8,50}), three sides, each for
 * {@code --seconds} on a fresh queue (deleted afterwards), one after the other:
 *
 * <ul>
 *   <li><b>raw batch</b>: N threads each looping {@code SendMessageBatch} of 10 messages carrying
 *       the attributes Polybus writes (id, key, timestamp; FIFO: group id = key, a unique
 *       deduplication id), each waiting for its answer: the endpoint's ceiling at that concurrency
 *       (10 × N messages outstanding);
 *   <li><b>raw single</b>: the same with one message per call (N messages outstanding, as N callers
 *       that each wait for their message's confirmation would have without coalescing);
 *   <li><b>Polybus single</b>: N threads each looping {@code publishAndWait} of one message
 *       (message construction and id generation included) to a topic with one group: the same work
 *       as raw single, N messages outstanding;
 *   <li><b>Polybus batch</b>: N threads each looping {@code publishAllAndWait} of 10 messages: the
 *       same work as raw batch, 10 × N messages outstanding.
 * </ul>
 *
 * <p>The fair pairs are those with as many messages outstanding: Polybus single against raw single,
 * Polybus batch against raw batch. {@code --warmup} rounds are discarded, then {@code --runs}
 * rounds; each configuration prints its medians and the median of the per-run ratios of each pair.
 * Usage: {@code SqsPublishConcurrency [--endpoint 127.0.0.1:9324] [--concurrency 1,8,50] [--seconds
 * 3] [--runs 3] [--warmup 1] [--modes standard,fifo] [--publishers 4]}.
 */
public final class SqsPublishConcurrency {
  private static final int KEYS = 1000;
  private static final String PAYLOAD = "x".repeat(100);
  private static final String[] SIDES = {
    "raw batch", "raw single", "polybus single", "polybus batch"
  };

  public static void main(String[] args) throws Exception {
    String endpoint = "127.0.0.1:9324";
    int[] concurrency = {1, 8, 50};
    double seconds = 3;
    int runs = 3;
    int warmup = 1;
    String[] modes = {"standard", "fifo"};
    String publishers = null;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--endpoint" -> endpoint = v;
        case "--concurrency" ->
            concurrency = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--seconds" -> seconds = Double.parseDouble(v);
        case "--runs" -> runs = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        case "--modes" -> modes = v.split(",");
        case "--publishers" -> publishers = v;
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    String prefix = "pbench-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    long durationNanos = (long) (seconds * 1e9);
    int maxThreads = Arrays.stream(concurrency).max().orElse(1);
    ExecutorService pool = Executors.newFixedThreadPool(maxThreads);
    List<String> table = new ArrayList<>();
    try (SqsClient raw =
        SqsClient.builder()
            .endpointOverride(URI.create("http://" + endpoint))
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench")))
            .httpClient(UrlConnectionHttpClient.create())
            .build()) {
      for (String mode : modes) {
        boolean fifo = mode.equals("fifo");
        String uri =
            "sqs://"
                + endpoint
                + "?region=us-east-1&prefix="
                + prefix
                + (fifo ? "&fifo=true" : "")
                + (publishers != null ? "&publishers=" + publishers : "");
        try (Polybus bus = Polybus.connect(uri)) {
          for (int n : concurrency) {
            double[][] results = new double[4][runs];
            for (int r = -warmup; r < runs; r++) {
              String run = mode.charAt(0) + "c" + n + "r" + (r + warmup);
              double[] rates = new double[4];
              rates[0] = rawPublish(raw, pool, n, 10, fifo, prefix + "raw10-" + run, durationNanos);
              rates[1] = rawPublish(raw, pool, n, 1, fifo, prefix + "raw1-" + run, durationNanos);
              rates[2] =
                  busPublish(bus, raw, pool, n, 1, fifo, prefix, "bus1" + run, durationNanos);
              rates[3] =
                  busPublish(bus, raw, pool, n, 10, fifo, prefix, "bus10" + run, durationNanos);
              System.out.printf(
                  Locale.ROOT,
                  "%s %s, %d publishers: raw batch %,.0f | raw single %,.0f | polybus single"
                      + " %,.0f | polybus batch %,.0f msg/s%n",
                  r < 0 ? "warm-up" : "run " + (r + 1),
                  mode,
                  n,
                  rates[0],
                  rates[1],
                  rates[2],
                  rates[3]);
              if (r >= 0) {
                for (int s = 0; s < 4; s++) {
                  results[s][r] = rates[s];
                }
              }
            }
            String row =
                String.format(
                    Locale.ROOT,
                    "| %s | %d | %,.0f | %,.0f | %.2f | %,.0f | %,.0f | %.2f |",
                    mode,
                    n,
                    Stats.median(results[1]),
                    Stats.median(results[2]),
                    Stats.medianRatio(results[2], results[1]),
                    Stats.median(results[0]),
                    Stats.median(results[3]),
                    Stats.medianRatio(results[3], results[0]));
            System.out.println(row);
            table.add(row);
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    System.out.printf(
        Locale.ROOT,
        "%n| mode | publishers | %s (msg/s, median of %d) | %s | ratio (median of per-run ratios)"
            + " | %s | %s | ratio |%n|---|---|---|---|---|---|---|---|%n",
        SIDES[1],
        runs,
        SIDES[2],
        SIDES[0],
        SIDES[3]);
    table.forEach(System.out::println);
  }

  private static MessageAttributeValue string(String s) {
    return MessageAttributeValue.builder().dataType("String").stringValue(s).build();
  }

  private static String createQueue(SqsClient raw, String name, boolean fifo) {
    return raw.createQueue(
            b ->
                b.queueName(fifo ? name + ".fifo" : name)
                    .attributes(fifo ? Map.of(QueueAttributeName.FIFO_QUEUE, "true") : Map.of()))
        .queueUrl();
  }

  /**
   * {@code threads} threads each sending calls of {@code perCall} messages until the time is up;
   * returns messages per second.
   */
  private static double rawPublish(
      SqsClient raw,
      ExecutorService pool,
      int threads,
      int perCall,
      boolean fifo,
      String queue,
      long durationNanos)
      throws Exception {
    String url = createQueue(raw, queue, fifo);
    AtomicInteger next = new AtomicInteger();
    String run = UUID.randomUUID().toString().substring(0, 8);
    double rate =
        timed(
            pool,
            threads,
            durationNanos,
            () -> {
              int from = next.getAndAdd(perCall);
              List<SendMessageBatchRequestEntry> l = new ArrayList<>(perCall);
              for (int i = 0; i < perCall; i++) {
                int n = from + i;
                String key = "k" + (n % KEYS);
                SendMessageBatchRequestEntry.Builder b =
                    SendMessageBatchRequestEntry.builder()
                        .id(Integer.toString(i))
                        .messageBody(PAYLOAD)
                        .messageAttributes(
                            Map.of(
                                "polybus.id", string(String.format(Locale.ROOT, "%026d", n)),
                                "polybus.key", string(key),
                                "polybus.ts",
                                    MessageAttributeValue.builder()
                                        .dataType("Number")
                                        .stringValue(Long.toString(System.currentTimeMillis()))
                                        .build()));
                if (fifo) {
                  b.messageGroupId(key).messageDeduplicationId(run + "-" + n);
                }
                l.add(b.build());
              }
              var r = raw.sendMessageBatch(b -> b.queueUrl(url).entries(l));
              if (!r.failed().isEmpty()) {
                throw new IllegalStateException("refused: " + r.failed());
              }
              return perCall;
            });
    raw.deleteQueue(b -> b.queueUrl(url));
    return rate;
  }

  private static double busPublish(
      Polybus bus,
      SqsClient raw,
      ExecutorService pool,
      int threads,
      int perCall,
      boolean fifo,
      String prefix,
      String topic,
      long durationNanos)
      throws Exception {
    // The topic's one group (its queue), made by a subscription closed at once.
    bus.subscribe(
            topic,
            "g",
            d -> {},
            SubscribeOptions.builder().ordering(fifo ? Ordering.KEY : Ordering.NONE).build())
        .close();
    List<String> urls = raw.listQueues(b -> b.queueNamePrefix(prefix + topic + "__")).queueUrls();
    if (urls.size() != 1) {
      throw new IllegalStateException("expected one group queue for " + topic + ", found " + urls);
    }
    AtomicInteger next = new AtomicInteger();
    double rate =
        timed(
            pool,
            threads,
            durationNanos,
            () -> {
              int from = next.getAndAdd(perCall);
              if (perCall == 1) {
                bus.publishAndWait(
                    topic, Message.builder().key("k" + (from % KEYS)).payload(PAYLOAD).build());
                return 1;
              }
              List<Message> batch = new ArrayList<>(perCall);
              for (int i = 0; i < perCall; i++) {
                batch.add(
                    Message.builder().key("k" + ((from + i) % KEYS)).payload(PAYLOAD).build());
              }
              bus.publishAllAndWait(topic, batch);
              return perCall;
            });
    raw.deleteQueue(b -> b.queueUrl(urls.get(0)));
    return rate;
  }

  /**
   * Runs {@code step} on {@code threads} threads, all started together, until {@code durationNanos}
   * passed; each step returns the messages it confirmed. Returns messages per second over the time
   * until the last thread finished its last step.
   */
  private static double timed(
      ExecutorService pool, int threads, long durationNanos, Callable<Integer> step)
      throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    AtomicLong confirmed = new AtomicLong();
    List<Future<?>> workers = new ArrayList<>(threads);
    long[] begin = new long[1];
    for (int t = 0; t < threads; t++) {
      workers.add(
          pool.submit(
              () -> {
                start.await();
                long end = begin[0] + durationNanos;
                while (System.nanoTime() - end < 0) {
                  confirmed.addAndGet(step.call());
                }
                return null;
              }));
    }
    begin[0] = System.nanoTime();
    start.countDown();
    for (Future<?> w : workers) {
      w.get(10, TimeUnit.MINUTES);
    }
    return confirmed.get() / ((System.nanoTime() - begin[0]) / 1e9);
  }
}
