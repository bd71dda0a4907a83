package io.polybus.benchmarks;

import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Batch handlers next to single-delivery handlers, on mem:, log: and Kafka, in one run.
 *
 * <p>Per backend and run, two topics are filled with the same messages (100-byte payloads, keys
 * over 1000 keys), not measured; then each is read from the start by a new group, one with a {@code
 * Handler}, one with a {@code BatchHandler} ({@code --batch} per call, {@code maxBatchWait} {@code
 * --wait-ms}, default 5), both {@code Ordering.NONE}, {@code concurrency} 1, {@code maxInFlight}
 * 4096, acking by returning. Timed from subscribe to the last message handled. Two handler costs:
 * none (the handler only touches each payload), and a fixed cost per call ({@code --call-micros},
 * parked, standing for the round trip of a database transaction), which is what batching is for.
 * The side that goes first alternates by run; medians and the median of per-run ratios are printed.
 *
 * <p>Usage: {@code BatchThroughput [--backends mem,log,kafka] [--messages 300000]
 * [--costly-messages 20000] [--call-micros 200] [--batch 100] [--runs 5] [--warmup 1] [--bootstrap
 * 127.0.0.1:9092]}.
 */
public final class BatchThroughput {
  private static final int PAYLOAD = 100;
  private static final int KEYS = 1000;

  private BatchThroughput() {}

  public static void main(String[] args) throws Exception {
    List<String> backends = List.of("mem", "log", "kafka");
    int messages = 300_000;
    int costly = 20_000;
    long callMicros = 200;
    int batch = 100;
    int runs = 5;
    int warmup = 1;
    String bootstrap = "127.0.0.1:9092";
    long waitMillis = 5;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      String v = args[i + 1];
      switch (args[i]) {
        case "--backends" -> backends = Arrays.asList(v.split(","));
        case "--messages" -> messages = Integer.parseInt(v);
        case "--costly-messages" -> costly = Integer.parseInt(v);
        case "--call-micros" -> callMicros = Long.parseLong(v);
        case "--batch" -> batch = Integer.parseInt(v);
        case "--runs" -> runs = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        case "--bootstrap" -> bootstrap = v;
        case "--wait-ms" -> waitMillis = Long.parseLong(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "batch %d vs single; %d messages without cost, %d with %d us per handler call;"
            + " %d runs after %d warm-up%n",
        batch,
        messages,
        costly,
        callMicros,
        runs,
        warmup);
    for (String b : backends) {
      Path dir = b.equals("log") ? Files.createTempDirectory("polybus-batch-bench") : null;
      try (Dirs.DeleteOnClose cleanup = Dirs.deleteOnClose(dir);
          Polybus bus = Polybus.connect(uri(b, dir, bootstrap))) {
        for (long cost : new long[] {0, callMicros}) {
          int n = cost == 0 ? messages : costly;
          double[] single = new double[runs];
          double[] batched = new double[runs];
          for (int r = -warmup; r < runs; r++) {
            String t1 = fill(bus, n);
            String t2 = fill(bus, n);
            double s;
            double bt;
            if ((r & 1) == 0) {
              s = consume(bus, t1, n, cost, 0, waitMillis);
              bt = consume(bus, t2, n, cost, batch, waitMillis);
            } else {
              bt = consume(bus, t2, n, cost, batch, waitMillis);
              s = consume(bus, t1, n, cost, 0, waitMillis);
            }
            if (r >= 0) {
              single[r] = s;
              batched[r] = bt;
            }
          }
          double[] ratios = new double[runs];
          for (int i = 0; i < runs; i++) {
            ratios[i] = batched[i] / single[i];
          }
          System.out.printf(
              Locale.ROOT,
              "%-5s cost %4d us/call: single %,12.0f msg/s  batch %,12.0f msg/s  batch/single %.2f"
                  + " (median of per-run ratios)%n",
              b,
              cost,
              Stats.median(single),
              Stats.median(batched),
              Stats.median(ratios));
        }
      }
    }
  }

  private static String uri(String backend, Path dir, String bootstrap) {
    return switch (backend) {
      case "mem" -> "mem:";
      case "log" -> "log:" + dir;
      case "kafka" -> "kafka://" + bootstrap;
      default -> throw new IllegalArgumentException("unknown backend " + backend);
    };
  }

  private static String fill(Polybus bus, int n) {
    String topic = "bench-batch-" + UUID.randomUUID().toString().substring(0, 8);
    List<CompletableFuture<List<PublishReceipt>>> pending = new ArrayList<>();
    for (int i = 0; i < n; i += 1000) {
      List<Message> chunk = new ArrayList<>(1000);
      for (int j = 0; j < Math.min(1000, n - i); j++) {
        chunk.add(
            Message.builder().key("key-" + ((i + j) % KEYS)).payload(new byte[PAYLOAD]).build());
      }
      pending.add(bus.publishAll(topic, chunk));
      if (pending.size() > 4) {
        pending.remove(0).join();
      }
    }
    pending.forEach(CompletableFuture::join);
    return topic;
  }

  /** Reads {@code n} messages of {@code topic} with a new group: batches of {@code batch}, or 0. */
  private static double consume(
      Polybus bus, String topic, int n, long callMicros, int batch, long waitMillis)
      throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong seen = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    long callNanos = TimeUnit.MICROSECONDS.toNanos(callMicros);
    SubscribeOptions options =
        SubscribeOptions.builder()
            .ordering(Ordering.NONE)
            .startFrom(StartFrom.EARLIEST)
            .maxInFlight(4096)
            .maxBatchSize(Math.max(1, batch))
            .maxBatchWait(java.time.Duration.ofMillis(waitMillis))
            .build();
    String group = "g-" + UUID.randomUUID().toString().substring(0, 8);
    long t0 = System.nanoTime();
    Subscription s;
    if (batch == 0) {
      s =
          bus.subscribe(
              topic,
              group,
              d -> {
                bytes.addAndGet(d.message().payloadSize());
                if (callNanos > 0) {
                  LockSupport.parkNanos(callNanos);
                }
                if (seen.incrementAndGet() == n) {
                  done.countDown();
                }
              },
              options);
    } else {
      s =
          bus.subscribeBatch(
              topic,
              group,
              elements -> {
                long b = 0;
                for (Delivery d : elements) {
                  b += d.message().payloadSize();
                }
                bytes.addAndGet(b);
                if (callNanos > 0) {
                  LockSupport.parkNanos(callNanos);
                }
                if (seen.addAndGet(elements.size()) >= n) {
                  done.countDown();
                }
              },
              options);
    }
    if (!done.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("timed out after " + seen.get() + " of " + n);
    }
    double rate = n / ((System.nanoTime() - t0) / 1e9);
    s.close();
    if (bytes.get() != (long) n * PAYLOAD) {
      throw new IllegalStateException("handled " + bytes.get() / PAYLOAD + " of " + n);
    }
    return rate;
  }
}
