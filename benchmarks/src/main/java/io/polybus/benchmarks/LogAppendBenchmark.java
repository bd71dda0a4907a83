package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.PolybusOptions;
import io.polybus.PublishReceipt;
import io.polybus.nativelog.NativeLogBackendProvider;
import io.polybus.nativelog.internal.LogBenchAccess;
import io.polybus.spi.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;

/**
 * Append and sequential read of 100-byte payloads, page-cache mode, the {@code log:} backend next
 * to Chronicle Queue in the same run.
 *
 * <ul>
 *   <li>{@code log: partition append}: the lowest layer that still frames a record (32-byte frame
 *       header with offset and timestamp, CRC32C over header and body, copy into the shared
 *       mapping, lock-free commit); the body is the 100-byte payload itself. Segment rolls (create,
 *       zero-fill, pre-touch) are inside the time.
 *   <li>{@code log: backend publish}: {@link Backend#publish} of the backend of the same payloads
 *       as messages (id, key over 1000 keys, payload) in batches of {@code --batch}, one partition:
 *       encoding, framing, CRC32C and the receipts. The messages are built before the timer
 *       (building a message draws an id; that is the publisher's cost and is in the end-to-end
 *       benchmark).
 *   <li>{@code chronicle append}: {@code ExcerptAppender.writeBytes} of the same 100 bytes (its
 *       4-byte length header, no checksum), on a fresh queue, default roll cycle.
 *   <li>reads: every record appended, in order, into a reused on-heap buffer: ours through the
 *       partition reader (each frame's CRC32C verified, as consumers do), Chronicle's through
 *       {@code ExcerptTailer.readBytes}.
 * </ul>
 *
 * Each run measures every system once, alternating which goes first, on fresh files that are
 * deleted afterwards (so nothing reaches the disk). Medians over {@code --runs} after {@code
 * --warmup} discarded runs; the ratio is the median of the per-run ratios (load moving on a shared
 * machine moves it least). Usage: {@code LogAppendBenchmark [--messages 5000000] [--runs 5]
 * [--warmup 2] [--batch 1000] [--segment-mb 64] [--dir /tmp]}.
 */
public final class LogAppendBenchmark {
  private static final int PAYLOAD = 100;

  public static void main(String[] args) throws Exception {
    // Chronicle otherwise tries to report usage over the network and prints a banner.
    System.setProperty("chronicle.analytics.disable", "true");
    System.setProperty("chronicle.announcer.disable", "true");
    int messages = 5_000_000;
    int runs = 5;
    int warmup = 2;
    int batch = 1000;
    int segmentMb = 64;
    Path base = Path.of(System.getProperty("java.io.tmpdir"));
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--messages":
          messages = Integer.parseInt(v);
          break;
        case "--runs":
          runs = Integer.parseInt(v);
          break;
        case "--warmup":
          warmup = Integer.parseInt(v);
          break;
        case "--batch":
          batch = Integer.parseInt(v);
          break;
        case "--segment-mb":
          segmentMb = Integer.parseInt(v);
          break;
        case "--dir":
          base = Path.of(v);
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    byte[] payload = new byte[PAYLOAD];
    for (int i = 0; i < PAYLOAD; i++) {
      payload[i] = (byte) ('a' + i % 26);
    }
    List<Message> pool = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      pool.add(Message.builder().key("customer-" + (i % 1000)).payload(payload).build());
    }
    Map<String, double[]> rates = new LinkedHashMap<>();
    String[] ops = {
      "log: partition append",
      "chronicle append",
      "log: backend publish",
      "log: partition read",
      "chronicle read"
    };
    for (String op : ops) {
      rates.put(op, new double[runs]);
    }
    for (int r = -warmup; r < runs; r++) {
      double[] one = new double[ops.length];
      boolean oursFirst = ((r + warmup) & 1) == 0;
      for (int side = 0; side < 2; side++) {
        if ((side == 0) == oursFirst) {
          double[] w = ours(base, messages, segmentMb, payload);
          one[0] = w[0];
          one[3] = w[1];
          one[2] = publish(base, messages, segmentMb, pool);
        } else {
          double[] c = chronicle(base, messages, payload);
          one[1] = c[0];
          one[4] = c[1];
        }
      }
      StringBuilder line =
          new StringBuilder(r < 0 ? "warmup  " : "measured").append(" run ").append(Math.abs(r));
      for (int i = 0; i < ops.length; i++) {
        line.append(String.format(Locale.ROOT, " | %s %,.0f", ops[i], one[i]));
        if (r >= 0) {
          rates.get(ops[i])[r] = one[i];
        }
      }
      System.out.println(line);
    }
    double[] appendRatio = new double[runs];
    double[] publishRatio = new double[runs];
    double[] readRatio = new double[runs];
    for (int r = 0; r < runs; r++) {
      appendRatio[r] = rates.get(ops[0])[r] / rates.get(ops[1])[r];
      publishRatio[r] = rates.get(ops[2])[r] / rates.get(ops[1])[r];
      readRatio[r] = rates.get(ops[3])[r] / rates.get(ops[4])[r];
    }
    System.out.printf(
        Locale.ROOT,
        "%n%,d x %d-byte payloads, %d runs (+%d warm-up), segments of %d MiB, batch %d%n",
        messages,
        PAYLOAD,
        runs,
        warmup,
        segmentMb,
        batch);
    System.out.printf(
        Locale.ROOT,
        "| %-10s | %-24s | %15s | %-28s |%n",
        "system",
        "operation",
        "msg/s (median)",
        "ratio (median of per-run)");
    System.out.println(
        "|------------|--------------------------|-----------------|------------------------------|");
    row(
        "Polybus",
        "partition append",
        rates.get(ops[0]),
        String.format(Locale.ROOT, "%.2fx Chronicle append", Stats.median(appendRatio)));
    row(
        "Polybus",
        "backend publish (batch)",
        rates.get(ops[2]),
        String.format(Locale.ROOT, "%.2fx Chronicle append", Stats.median(publishRatio)));
    row("Chronicle", "append (writeBytes)", rates.get(ops[1]), "1.00");
    row(
        "Polybus",
        "sequential read",
        rates.get(ops[3]),
        String.format(Locale.ROOT, "%.2fx Chronicle read", Stats.median(readRatio)));
    row("Chronicle", "sequential read", rates.get(ops[4]), "1.00");
  }

  private static void row(String system, String op, double[] rates, String ratio) {
    System.out.printf(
        Locale.ROOT,
        "| %-10s | %-24s | %,15.0f | %-28s |%n",
        system,
        op,
        Stats.median(rates),
        ratio);
  }

  /** Appends then reads {@code n} frames through one partition; returns {append, read} in msg/s. */
  private static double[] ours(Path base, int n, int segmentMb, byte[] payload) throws IOException {
    Path dir = Files.createTempDirectory(base, "bench-log-");
    try (LogBenchAccess.Appender a = new LogBenchAccess.Appender(dir, segmentMb << 20)) {
      long ts = System.currentTimeMillis();
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        a.append(payload, ts);
      }
      long t1 = System.nanoTime();
      LogBenchAccess.Reader reader = a.reader();
      long sum = 0;
      int read = 0;
      long t2 = System.nanoTime();
      while (read < n) {
        int len = reader.next();
        if (len < 0) {
          throw new IllegalStateException("read " + read + " of " + n);
        }
        sum += reader.bytes()[LogBenchAccess.Reader.bodyStart() + (read & 63)];
        read++;
      }
      long t3 = System.nanoTime();
      check(sum);
      return new double[] {n * 1e9 / (t1 - t0), n * 1e9 / (t3 - t2)};
    } finally {
      Dirs.deleteRecursively(dir);
    }
  }

  /** Publishes {@code n} messages through the backend in batches; returns msg/s. */
  private static double publish(Path base, int n, int segmentMb, List<Message> pool)
      throws IOException {
    Path dir = Files.createTempDirectory(base, "bench-publish-");
    Backend backend =
        new NativeLogBackendProvider()
            .open(
                PolybusOptions.parse(
                    "log:" + dir + "?partitions=1&segmentSize=" + segmentMb + "m"));
    try {
      backend
          .publish("bench", pool.subList(0, 1))
          .join(); // creates the topic (and its first segment) untimed
      long t0 = System.nanoTime();
      long last = 0;
      for (int i = 0; i < n; i += pool.size()) {
        List<Message> b = pool.size() <= n - i ? pool : pool.subList(0, n - i);
        List<PublishReceipt> receipts = backend.publish("bench", b).join();
        last += receipts.size();
      }
      long t1 = System.nanoTime();
      if (last != n) {
        throw new IllegalStateException("published " + last + " of " + n);
      }
      return n * 1e9 / (t1 - t0);
    } finally {
      backend.close();
      Dirs.deleteRecursively(dir);
    }
  }

  /**
   * Appends then reads {@code n} excerpts through Chronicle Queue; returns {append, read} in msg/s.
   */
  private static double[] chronicle(Path base, int n, byte[] payload) throws IOException {
    Path dir = Files.createTempDirectory(base, "bench-chronicle-");
    try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir.toFile()).build()) {
      BytesStore<?, ?> body = BytesStore.wrap(payload);
      double append;
      try (ExcerptAppender a = q.acquireAppender()) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          a.writeBytes(body);
        }
        long t1 = System.nanoTime();
        append = n * 1e9 / (t1 - t0);
      }
      Bytes<?> into = Bytes.allocateElasticOnHeap(256);
      long sum = 0;
      int read = 0;
      try (ExcerptTailer t = q.createTailer()) {
        long t2 = System.nanoTime();
        while (read < n) {
          into.clear();
          if (!t.readBytes(into)) {
            throw new IllegalStateException("read " + read + " of " + n);
          }
          sum += into.readByte(read & 63);
          read++;
        }
        long t3 = System.nanoTime();
        check(sum);
        return new double[] {append, n * 1e9 / (t3 - t2)};
      } finally {
        into.releaseLast();
      }
    } finally {
      Dirs.deleteRecursively(dir);
    }
  }

  private static void check(long sum) {
    if (sum == 42) {
      System.out.print(""); // keeps the read loop's result alive
    }
  }
}
