package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Latency publish -> handler through the public API at a fixed rate, next to the floor this machine
 * sets: a bare JDK program handing the same paced messages from one thread to another.
 *
 * <p>One publisher thread paces single-message publishes ({@code publish}, not waiting for the
 * receipt) at {@code --rate} messages per second; the handler (one group, {@link Ordering#KEY} over
 * 1000 keys, concurrency 1) records, in an HdrHistogram, the time from a timestamp carried in the
 * message's 100-byte payload to the moment the handler runs. The <em>hand-off</em> does the same
 * with nothing of ours: the publisher offers each stamped 100-byte array to a {@link
 * LinkedBlockingQueue} and a second thread, blocked in {@code take()}, records it. Every round
 * measures the hand-off and each {@code --uri} once, alternating which goes first, and the ratios
 * (p50 and p99 of each system over the hand-off's in the same round) are reported as medians of the
 * per-round ratios.
 *
 * <p>{@code --pace park} (the default) sleeps until the next message is due and then publishes
 * every message that is due, each stamped just before its {@code publish} call: the publisher
 * leaves the cores to the system under test (on 2 cores a spinning publisher takes half the
 * machine), and the latency is the system's, from the publish call. {@code --pace spin} spins until
 * each message's scheduled time and stamps it with that time, so a publisher that fell behind
 * counts as latency (no coordinated omission), at the price of a core.
 *
 * <p>Each measurement is {@code --seconds} long on a fresh topic, after {@code --warmup-seconds} of
 * the same traffic that is not recorded; p50/p99/p99.9/max per round, then the medians over {@code
 * --runs}. Usage: {@code LatencyBenchmark [--uri log:<dir>]... [--rate 100000] [--seconds 10]
 * [--warmup-seconds 5] [--runs 3] [--pace park|spin] [--handoff true|false]}; without {@code
 * --uri}, a log in a fresh temp directory that is deleted at the end.
 */
public final class LatencyBenchmark {
  /** One system under test: takes stamped payloads, hands each to a thread that records it. */
  private interface Pipe extends AutoCloseable {
    void send(String key, byte[] payload) throws Exception;

    long handled();

    @Override
    void close() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    List<String> uris = new ArrayList<>();
    int rate = 100_000;
    int seconds = 10;
    int warmupSeconds = 5;
    int runs = 3;
    boolean spinPacing = false;
    boolean handoff = true;
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--uri" -> uris.add(v);
        case "--rate" -> rate = Integer.parseInt(v);
        case "--seconds" -> seconds = Integer.parseInt(v);
        case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(v);
        case "--runs" -> runs = Integer.parseInt(v);
        case "--pace" -> {
          if (!v.equals("spin") && !v.equals("park")) {
            throw new IllegalArgumentException("--pace must be park or spin, not " + v);
          }
          spinPacing = v.equals("spin");
        }
        case "--handoff" -> handoff = Boolean.parseBoolean(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    // Without --uri: a log in a fresh temp directory, deleted at the end (a run writes hundreds of
    // megabytes).
    Path ownDir = null;
    if (uris.isEmpty()) {
      ownDir = Files.createTempDirectory("polybus-latency-");
      uris.add("log:" + ownDir);
    }
    List<String> labels = new ArrayList<>();
    if (handoff) {
      labels.add("JDK hand-off (LinkedBlockingQueue, 2 threads)");
    }
    labels.addAll(uris);
    int k = labels.size();
    // [system][quantile: p50, p99, p99.9, max][round]
    double[][][] results = new double[k][4][runs];
    List<Polybus> buses = new ArrayList<>();
    try (Dirs.DeleteOnClose cleanup = Dirs.deleteOnClose(ownDir)) {
      for (String uri : uris) {
        buses.add(Polybus.connect(uri));
      }
      for (int r = 0; r < runs; r++) {
        for (int j = 0; j < k; j++) {
          int u = (r & 1) == 0 ? j : k - 1 - j; // alternate which system goes first
          int busIndex = handoff ? u - 1 : u;
          Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
          long[] recordAfter = {Long.MAX_VALUE};
          Pipe pipe =
              busIndex < 0
                  ? new Handoff(h, recordAfter)
                  : new Bus(buses.get(busIndex), h, recordAfter);
          try (pipe) {
            drive(pipe, recordAfter, rate, warmupSeconds, seconds, spinPacing);
          }
          double[] q = {
            h.getValueAtPercentile(50) / 1e3,
            h.getValueAtPercentile(99) / 1e3,
            h.getValueAtPercentile(99.9) / 1e3,
            h.getMaxValue() / 1e3
          };
          for (int i = 0; i < 4; i++) {
            results[u][i][r] = q[i];
          }
          System.out.printf(
              Locale.ROOT,
              "round %d %s: %,d messages, p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n",
              r,
              labels.get(u),
              h.getTotalCount(),
              q[0],
              q[1],
              q[2],
              q[3]);
        }
      }
    } finally {
      for (Polybus bus : buses) {
        bus.close();
      }
    }
    System.out.println();
    for (int u = 0; u < k; u++) {
      System.out.printf(
          Locale.ROOT,
          "latency publish -> handler %s at %,d msg/s (%s pacing), median of %d rounds of %d s:"
              + " p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n",
          labels.get(u),
          rate,
          spinPacing ? "spin" : "park",
          runs,
          seconds,
          Stats.median(results[u][0]),
          Stats.median(results[u][1]),
          Stats.median(results[u][2]),
          Stats.median(results[u][3]));
    }
    if (handoff) {
      for (int u = 1; u < k; u++) {
        System.out.printf(
            Locale.ROOT,
            "ratio %s / hand-off: p50 %.2fx, p99 %.2fx, p99.9 %.2fx (medians of per-round ratios)%n",
            labels.get(u),
            Stats.medianRatio(results[u][0], results[0][0]),
            Stats.medianRatio(results[u][1], results[0][1]),
            Stats.medianRatio(results[u][2], results[0][2]));
      }
    }
  }

  /**
   * Paces {@code rate} messages per second into {@code pipe} for the warm-up and the measured
   * seconds, then waits for every one to be handled.
   */
  private static void drive(
      Pipe pipe, long[] recordAfter, int rate, int warmupSeconds, int seconds, boolean spinPacing)
      throws Exception {
    String[] keys = new String[1000];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "customer-" + i;
    }
    long interval = 1_000_000_000L / rate;
    long total = (long) rate * (warmupSeconds + seconds);
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    long recordFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
    synchronized (recordAfter) {
      // published to the recording thread by the queue hand-over of the first message
      recordAfter[0] = recordFrom;
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
        pipe.send(keys[(int) (i % 1000)], payload);
        i++;
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pipe.handled() < total && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    if (pipe.handled() < total) {
      throw new IllegalStateException("only " + pipe.handled() + " of " + total + " handled");
    }
  }

  /** Records one received payload: the time since the stamp in its first 8 bytes. */
  private static void record(Histogram histogram, long[] recordAfter, byte[] p) {
    long now = System.nanoTime();
    long stamp = 0;
    for (int i = 0; i < 8; i++) {
      stamp = stamp << 8 | (p[i] & 0xff);
    }
    if (stamp >= recordAfter[0]) {
      histogram.recordValue(Math.min(now - stamp, histogram.getHighestTrackableValue()));
    }
  }

  /** Polybus: publish on a fresh topic, a KEY-ordered subscription of concurrency 1 records. */
  private static final class Bus implements Pipe {
    private final Polybus bus;
    private final String topic = "bench-latency-" + System.nanoTime();
    private final AtomicLong handled = new AtomicLong();
    private final Subscription subscription;

    Bus(Polybus bus, Histogram histogram, long[] recordAfter) {
      this.bus = bus;
      this.subscription =
          bus.subscribe(
              topic,
              "bench",
              d -> {
                record(histogram, recordAfter, d.message().payload());
                handled.incrementAndGet();
              },
              SubscribeOptions.builder().ordering(Ordering.KEY).concurrency(1).build());
    }

    @Override
    public void send(String key, byte[] payload) {
      bus.publish(topic, Message.builder().key(key).payload(payload).build());
    }

    @Override
    public long handled() {
      return handled.get();
    }

    @Override
    public void close() {
      subscription.close();
    }
  }

  /** The floor: one {@link LinkedBlockingQueue} between the publisher and a blocked taker. */
  private static final class Handoff implements Pipe {
    private static final byte[] STOP = new byte[0];
    private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private final AtomicLong handled = new AtomicLong();
    private final Thread taker;

    Handoff(Histogram histogram, long[] recordAfter) {
      taker =
          new Thread(
              () -> {
                try {
                  for (byte[] p = queue.take(); p != STOP; p = queue.take()) {
                    record(histogram, recordAfter, p);
                    handled.incrementAndGet();
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "handoff-taker");
      taker.start();
    }

    @Override
    public void send(String key, byte[] payload) {
      queue.add(payload);
    }

    @Override
    public long handled() {
      return handled.get();
    }

    @Override
    public void close() throws InterruptedException {
      queue.add(STOP);
      taker.join();
    }
  }
}
