package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.nativelog.internal.RecoveryBenchAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * How long the recovery scan at open takes per GiB (issue 3 target: at most 1 s per GiB scanned).
 *
 * <p>Writes about {@code --gib} GiB of 1 KiB messages through the public API into a fresh {@code
 * log:} directory (4 partitions, 256 MiB segments), closes it, then runs the recovery scan {@code
 * --runs} times, each after setting every checkpoint back to the segment start so the whole log is
 * verified (length, CRC32C and offsets of every record). The files are in the page cache, as after
 * a process crash; with {@code --drop-caches} (root only) the kernel's caches are dropped before
 * each run, as after a machine restart. Prints each run and the median.
 */
public final class LogRecoveryBenchmark {
  public static void main(String[] args) throws Exception {
    double gib = 1.0;
    int runs = 5;
    boolean dropCaches = false;
    Path dir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--gib" -> gib = Double.parseDouble(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--drop-caches" -> dropCaches = true;
        case "--dir" -> dir = Path.of(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + " (known: --gib N, --runs N, --drop-caches, --dir D)");
      }
    }
    if (dir == null) {
      dir = Files.createTempDirectory("polybus-recovery-");
    }
    long messages =
        (long) (gib * (1L << 30) / 1088); // 1 KiB payload + id, headers and frame header
    byte[] payload = new byte[1024];
    Arrays.fill(payload, (byte) 'x');
    try (Polybus bus = Polybus.connect("log:" + dir + "?partitions=4&segmentSize=256m")) {
      List<Message> batch = new ArrayList<>(1000);
      for (long i = 0; i < messages; i++) {
        batch.add(Message.builder().key("k" + (i % 1000)).payload(payload).build());
        if (batch.size() == 1000 || i == messages - 1) {
          bus.publishAll("bench", batch).join();
          batch = new ArrayList<>(1000);
        }
      }
    }
    List<Double> secondsPerGib = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      RecoveryBenchAccess.forgetCheckpoints(dir);
      if (dropCaches) {
        new ProcessBuilder("sh", "-c", "sync && echo 3 > /proc/sys/vm/drop_caches")
            .inheritIO()
            .start()
            .waitFor();
      }
      long[] result = RecoveryBenchAccess.recover(dir);
      double g = result[0] / (double) (1L << 30);
      double s = result[2] / 1e9;
      secondsPerGib.add(s / g);
      System.out.printf(
          "run %d: scanned %.2f GiB, %,d records in %.3f s: %.3f s per GiB%n",
          r + 1, g, result[1], s, s / g);
    }
    secondsPerGib.sort(null);
    System.out.printf(
        "recovery scan%s: median %.3f s per GiB over %d runs (target <= 1.0)%n",
        dropCaches ? " (caches dropped)" : " (page cache warm)", secondsPerGib.get(runs / 2), runs);
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
  }
}
