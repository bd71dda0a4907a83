package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The SQS backend next to plain AWS SDK code doing the same work against the same endpoint
 * (ElasticMQ here), standard queues, 100-byte text payloads.
 *
 * <p>Publish: {@code --messages} messages to a topic with one group. Raw: {@code --threads} threads
 * (the backend's default publisher count, 4) each sending {@code SendMessageBatch} calls of 10
 * messages carrying the attributes Polybus writes (id, key, timestamp). Polybus: {@code publishAll}
 * calls of 1000 messages (message construction and id generation included) with at most 8 calls
 * outstanding; the run ends when the last is confirmed.
 *
 * <p>Consume: a queue pre-filled with the same messages is drained. Raw: one thread looping {@code
 * ReceiveMessage} (10 messages, 1 s long poll) then {@code DeleteMessageBatch} of what it got.
 * Polybus: a subscription ({@code Ordering.NONE}, {@code concurrency} 1) whose handler acks by
 * returning; the run ends when the last handler ran.
 *
 * <p>Each side runs {@code --runs} times after {@code --warmup} discarded runs, alternating, on
 * fresh queues that are deleted afterwards; the medians and the median of the per-run ratios are
 * printed. Usage: {@code SqsThroughput [--endpoint 127.0.0.1:9324] [--messages 20000] [--threads 4]
 * [--runs 5] [--warmup 1]}.
 */
public final class SqsThroughput {
  private static final int BATCH = 1000;
  private static final int KEYS = 1000;
  private static final String PAYLOAD = "x".repeat(100);

  public static void main(String[] args) throws Exception {
    String endpoint = "127.0.0.1:9324";
    int messages = 20_000;
    int threads = 4;
    int runs = 5;
    int warmup = 1;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--endpoint" -> endpoint = v;
        case "--messages" -> messages = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--runs" -> runs = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    String prefix = "pbench-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    String uri = "sqs://" + endpoint + "?region=us-east-1&prefix=" + prefix;
    double[][] results = new double[4][runs];
    SqsClient rawClient =
        SqsClient.builder()
            .endpointOverride(URI.create("http://" + endpoint))
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench")))
            .httpClient(UrlConnectionHttpClient.create())
            .build();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (SqsClient raw = rawClient;
        Polybus bus = Polybus.connect(uri)) {
      for (int r = -warmup; r < runs; r++) {
        String run = "r" + (r + warmup);
        double rawPublish = rawPublish(raw, pool, threads, prefix + "raw-pub-" + run, messages);
        double busPublish = busPublish(bus, raw, prefix, "buspub" + run, messages);
        double rawConsume = rawConsume(raw, pool, threads, prefix + "raw-sub-" + run, messages);
        double busConsume = busConsume(bus, raw, pool, threads, prefix, "bussub" + run, messages);
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
    } finally {
      pool.shutdownNow();
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
        "median publish: raw SendMessageBatch %,.0f msg/s, polybus %,.0f msg/s, ratio %.2f"
            + " (median of per-run ratios %.2f)%n",
        m[0],
        m[1],
        m[1] / m[0],
        Stats.medianRatio(results[1], results[0]));
    System.out.printf(
        Locale.ROOT,
        "median consume: raw ReceiveMessage+DeleteMessageBatch %,.0f msg/s, polybus %,.0f"
            + " msg/s, ratio %.2f (median of per-run ratios %.2f)%n",
        m[2],
        m[3],
        m[3] / m[2],
        Stats.medianRatio(results[3], results[2]));
  }

  /** Ten messages with the attributes Polybus writes: a 26-character id, a key and a timestamp. */
  private static List<SendMessageBatchRequestEntry> entries(int from) {
    List<SendMessageBatchRequestEntry> l = new ArrayList<>(10);
    for (int i = 0; i < 10; i++) {
      int n = from + i;
      l.add(
          SendMessageBatchRequestEntry.builder()
              .id(Integer.toString(i))
              .messageBody(PAYLOAD)
              .messageAttributes(
                  Map.of(
                      "polybus.id", string(String.format(Locale.ROOT, "%026d", n)),
                      "polybus.key", string("k" + (n % KEYS)),
                      "polybus.ts",
                          MessageAttributeValue.builder()
                              .dataType("Number")
                              .stringValue(Long.toString(System.currentTimeMillis()))
                              .build()))
              .build());
    }
    return l;
  }

  private static MessageAttributeValue string(String s) {
    return MessageAttributeValue.builder().dataType("String").stringValue(s).build();
  }

  /** {@code n} messages (a multiple of 10) in batches of 10 from {@code threads} threads. */
  private static void rawFill(SqsClient raw, ExecutorService pool, int threads, String url, int n)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    List<Future<?>> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      workers.add(
          pool.submit(
              () -> {
                int from;
                while ((from = next.getAndAdd(10)) < n) {
                  List<SendMessageBatchRequestEntry> batch = entries(from);
                  var r = raw.sendMessageBatch(b -> b.queueUrl(url).entries(batch));
                  if (!r.failed().isEmpty()) {
                    throw new IllegalStateException("refused: " + r.failed());
                  }
                }
                return null;
              }));
    }
    for (Future<?> w : workers) {
      w.get();
    }
  }

  private static double rawPublish(
      SqsClient raw, ExecutorService pool, int threads, String queue, int n) throws Exception {
    String url = raw.createQueue(b -> b.queueName(queue)).queueUrl();
    long start = System.nanoTime();
    rawFill(raw, pool, threads, url, n);
    double rate = n / ((System.nanoTime() - start) / 1e9);
    raw.deleteQueue(b -> b.queueUrl(url));
    return rate;
  }

  /** Makes the topic's one group (its queue) and returns the queue's URL. */
  private static String group(Polybus bus, SqsClient raw, String prefix, String topic) {
    bus.subscribe(topic, "g", d -> {}, SubscribeOptions.builder().ordering(Ordering.NONE).build())
        .close();
    List<String> urls = raw.listQueues(b -> b.queueNamePrefix(prefix + topic + "__")).queueUrls();
    if (urls.size() != 1) {
      throw new IllegalStateException("expected one group queue for " + topic + ", found " + urls);
    }
    return urls.get(0);
  }

  private static double busPublish(Polybus bus, SqsClient raw, String prefix, String topic, int n)
      throws Exception {
    String url = group(bus, raw, prefix, topic);
    long start = System.nanoTime();
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
    double rate = n / ((System.nanoTime() - start) / 1e9);
    raw.deleteQueue(b -> b.queueUrl(url));
    return rate;
  }

  private static double rawConsume(
      SqsClient raw, ExecutorService pool, int threads, String queue, int n) throws Exception {
    String url = raw.createQueue(b -> b.queueName(queue)).queueUrl();
    rawFill(raw, pool, threads, url, n);
    long start = System.nanoTime();
    int seen = 0;
    while (seen < n) {
      ReceiveMessageResponse r =
          raw.receiveMessage(
              b ->
                  b.queueUrl(url)
                      .maxNumberOfMessages(10)
                      .waitTimeSeconds(1)
                      .messageAttributeNames("All"));
      if (r.messages().isEmpty()) {
        continue;
      }
      List<DeleteMessageBatchRequestEntry> delete = new ArrayList<>(r.messages().size());
      for (int i = 0; i < r.messages().size(); i++) {
        delete.add(
            DeleteMessageBatchRequestEntry.builder()
                .id(Integer.toString(i))
                .receiptHandle(r.messages().get(i).receiptHandle())
                .build());
      }
      raw.deleteMessageBatch(b -> b.queueUrl(url).entries(delete));
      seen += r.messages().size();
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    raw.deleteQueue(b -> b.queueUrl(url));
    return rate;
  }

  private static double busConsume(
      Polybus bus,
      SqsClient raw,
      ExecutorService pool,
      int threads,
      String prefix,
      String topic,
      int n)
      throws Exception {
    String url = group(bus, raw, prefix, topic);
    rawFill(raw, pool, threads, url, n);
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
                .build());
    if (!all.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("only " + seen.get() + " of " + n + " consumed");
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    s.close();
    raw.deleteQueue(b -> b.queueUrl(url));
    return rate;
  }
}
