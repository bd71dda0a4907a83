package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Latency publish -> handler through the public API at a fixed rate: one publisher thread paces
 * single-message publishes ({@code publish}, not waiting for the receipt) at {@code --rate}
 * messages per second; the handler (one group, {@link Ordering#KEY} over 1000 keys, concurrency 1)
 * records, in an HdrHistogram, the time from a timestamp carried in the message's 100-byte payload
 * to the moment the handler runs.
 *
 * <p>{@code --pace park} (the default) sleeps until the next message is due and then publishes
 * every message that is due, each stamped just before its {@code publish} call: the publisher
 * leaves the cores to the system under test (on 2 cores a spinning publisher takes half the
 * machine), and the latency is the system's, from the publish call. {@code --pace spin} spins until
 * each message's scheduled time and stamps it with that time, so a publisher that fell behind
 * counts as latency (no coordinated omission), at the price of a core.
 *
 * <p>Each run is {@code --seconds} long on a fresh topic, after {@code --warmup-seconds} of the
 * same traffic that is not recorded; p50/p99/p99.9/max per run, then the medians over {@code
 * --runs}. Usage: {@code LatencyBenchmark [--uri log:<dir>] [--rate 100000] [--seconds 10]
 * [--warmup-seconds 5] [--runs 3] [--pace park|spin]}; without {@code --uri}, a log in a fresh temp
 * directory that is deleted at the end.
 */
public final class LatencyBenchmark {
  public static void main(String[] args) throws Exception {
    String uri = null;
    int rate = 100_000;
    int seconds = 10;
    int warmupSeconds = 5;
    int runs = 3;
    boolean spinPacing = false;
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--uri":
          uri = v;
          break;
        case "--rate":
          rate = Integer.parseInt(v);
          break;
        case "--seconds":
          seconds = Integer.parseInt(v);
          break;
        case "--warmup-seconds":
          warmupSeconds = Integer.parseInt(v);
          break;
        case "--runs":
          runs = Integer.parseInt(v);
          break;
        case "--pace":
          spinPacing = v.equals("spin");
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    // Without --uri: a log in a fresh temp directory, deleted at the end (a run writes hundreds of
    // megabytes).
    Path ownDir = null;
    if (uri == null) {
      ownDir = Files.createTempDirectory("polybus-latency-");
      uri = "log:" + ownDir;
    }
    double[][] results = new double[4][runs];
    try (Dirs.DeleteOnClose cleanup = Dirs.deleteOnClose(ownDir);
        Polybus bus = Polybus.connect(uri)) {
      for (int r = 0; r < runs; r++) {
        Histogram h = once(bus, rate, warmupSeconds, seconds, spinPacing);
        double[] q = {
          h.getValueAtPercentile(50) / 1e3,
          h.getValueAtPercentile(99) / 1e3,
          h.getValueAtPercentile(99.9) / 1e3,
          h.getMaxValue() / 1e3
        };
        for (int i = 0; i < 4; i++) {
          results[i][r] = q[i];
        }
        System.out.printf(
            Locale.ROOT,
            "run %d: %,d messages, p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n",
            r,
            h.getTotalCount(),
            q[0],
            q[1],
            q[2],
            q[3]);
      }
    }
    for (double[] row : results) {
      java.util.Arrays.sort(row);
    }
    System.out.printf(
        Locale.ROOT,
        "%nlatency publish -> handler %s at %,d msg/s (%s pacing), median of %d runs of %d s:"
            + " p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n",
        uri,
        rate,
        spinPacing ? "spin" : "park",
        runs,
        seconds,
        results[0][runs / 2],
        results[1][runs / 2],
        results[2][runs / 2],
        results[3][runs / 2]);
  }

  private static Histogram once(
      Polybus bus, int rate, int warmupSeconds, int seconds, boolean spinPacing) throws Exception {
    String topic = "bench-latency-" + System.nanoTime();
    Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    AtomicLong handled = new AtomicLong();
    long[] recordAfter = {Long.MAX_VALUE};
    Subscription s =
        bus.subscribe(
            topic,
            "bench",
            d -> {
              long now = System.nanoTime();
              byte[] p = d.message().payload();
              long scheduled = 0;
              for (int i = 0; i < 8; i++) {
                scheduled = scheduled << 8 | (p[i] & 0xff);
              }
              if (scheduled >= recordAfter[0]) {
                histogram.recordValue(
                    Math.min(now - scheduled, histogram.getHighestTrackableValue()));
              }
              handled.incrementAndGet();
            },
            SubscribeOptions.builder().ordering(Ordering.KEY).concurrency(1).build());
    String[] keys = new String[1000];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "customer-" + i;
    }
    long interval = 1_000_000_000L / rate;
    long total = (long) rate * (warmupSeconds + seconds);
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    long recordFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
    synchronized (recordAfter) {
      recordAfter[0] =
          recordFrom; // published to the handler thread by the subscription's queue hand-over
    }
    long i = 0;
    while (i < total) {
      long now = System.nanoTime();
      long due = start + i * interval;
      if (now < due) {
        if (spinPacing) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(due - now);
        }
        continue;
      }
      // Everything due by now (one message when spinning; those due during an oversleep when
      // parking).
      while (i < total && start + i * interval <= now) {
        long stamp = spinPacing ? start + i * interval : System.nanoTime();
        byte[] payload = new byte[100];
        for (int b = 7; b >= 0; b--) {
          payload[7 - b] = (byte) (stamp >>> (b * 8));
        }
        bus.publish(topic, Message.builder().key(keys[(int) (i % 1000)]).payload(payload).build());
        i++;
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (handled.get() < total && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    s.close();
    if (handled.get() < total) {
      throw new IllegalStateException("only " + handled.get() + " of " + total + " handled");
    }
    return histogram;
  }
}
