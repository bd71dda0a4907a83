package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Polybus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Confirmed publishes from many threads at once: {@code --publishers} threads each publish {@code
 * --batch} messages (100-byte payload, key over 1000 keys) and wait for the confirmation before the
 * next, for {@code --seconds}. With {@code log:...?fsync=sync} a publish is confirmed only once a
 * force of the mapping covers it, so the rate shows how well concurrent publishers share forces
 * (group commit). Medians over {@code --runs} after {@code --warmup} runs, each on a fresh topic.
 * Usage: {@code SyncPublishBenchmark [--uri log:<dir>?fsync=sync] [--publishers 64] [--batch 1]
 * [--seconds 5] [--runs 5] [--warmup 1]}; without {@code --uri}, {@code fsync=sync} in a fresh temp
 * directory that is deleted at the end.
 */
public final class SyncPublishBenchmark {
  public static void main(String[] args) throws Exception {
    String uri = null;
    int publishers = 64;
    int batch = 1;
    int seconds = 5;
    int runs = 5;
    int warmup = 1;
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--uri":
          uri = v;
          break;
        case "--publishers":
          publishers = Integer.parseInt(v);
          break;
        case "--batch":
          batch = Integer.parseInt(v);
          break;
        case "--seconds":
          seconds = Integer.parseInt(v);
          break;
        case "--runs":
          runs = Integer.parseInt(v);
          break;
        case "--warmup":
          warmup = Integer.parseInt(v);
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    // Without --uri: a log in a fresh temp directory, deleted at the end (a run writes hundreds of
    // megabytes).
    Path ownDir = null;
    if (uri == null) {
      ownDir = Files.createTempDirectory("polybus-sync-");
      uri = "log:" + ownDir + "?fsync=sync";
    }
    double[] rates = new double[runs];
    try (Dirs.DeleteOnClose cleanup = Dirs.deleteOnClose(ownDir);
        Polybus bus = Polybus.connect(uri)) {
      for (int r = -warmup; r < runs; r++) {
        double rate = once(bus, publishers, batch, seconds);
        if (r >= 0) {
          rates[r] = rate;
        }
        System.out.printf(
            Locale.ROOT,
            "%s run %d: %,.0f msg/s%n",
            r < 0 ? "warmup" : "measured",
            Math.abs(r),
            rate);
      }
    }
    Arrays.sort(rates);
    System.out.printf(
        Locale.ROOT,
        "%nconfirmed publish %s, %d publishers, batch %d, payload 100B: median %,.0f msg/s"
            + " (min %,.0f, max %,.0f, %d runs of %d s)%n",
        uri,
        publishers,
        batch,
        rates[runs / 2],
        rates[0],
        rates[runs - 1],
        runs,
        seconds);
  }

  private static double once(Polybus bus, int publishers, int batch, int seconds) throws Exception {
    String topic = "bench-sync-" + System.nanoTime();
    bus.publishAndWait(topic, Message.of("create the topic before the clock starts"));
    byte[] payload = new byte[100];
    AtomicLong confirmed = new AtomicLong();
    CountDownLatch ready = new CountDownLatch(publishers);
    CountDownLatch go = new CountDownLatch(1);
    long[] window = new long[2];
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = new ArrayList<>();
    for (int t = 0; t < publishers; t++) {
      int id = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  ready.countDown();
                  go.await();
                  long end = window[1];
                  int i = 0;
                  while (System.nanoTime() < end) {
                    List<Message> messages = new ArrayList<>(batch);
                    for (int b = 0; b < batch; b++, i++) {
                      messages.add(
                          Message.builder()
                              .key("customer-" + ((id * 7919 + i) % 1000))
                              .payload(payload)
                              .build());
                    }
                    bus.publishAllAndWait(topic, messages);
                    confirmed.addAndGet(batch);
                  }
                } catch (Throwable e) {
                  synchronized (errors) {
                    errors.add(e);
                  }
                }
              },
              "publisher-" + t);
      threads.add(th);
      th.start();
    }
    ready.await();
    window[0] = System.nanoTime();
    window[1] = window[0] + seconds * 1_000_000_000L;
    go.countDown(); // the latch publishes window[] to the publishers
    for (Thread th : threads) {
      th.join();
    }
    long elapsed = System.nanoTime() - window[0];
    if (!errors.isEmpty()) {
      throw new IllegalStateException("a publisher failed", errors.get(0));
    }
    return confirmed.get() * 1e9 / elapsed;
  }
}
