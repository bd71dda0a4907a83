package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Not API. The benchmarks' door into the log's package-private recovery ({@code
 * LogRecoveryBenchmark}). Like {@link LogBenchAccess} it lives in the backend, whose module
 * descriptor does not export this package, so only class-path code such as the benchmarks reaches
 * it.
 */
public final class RecoveryBenchAccess {
  private RecoveryBenchAccess() {}

  /** Runs a recovery of {@code logDir}; returns {bytes scanned, records, nanos}. */
  public static long[] recover(Path logDir) throws IOException {
    Recovery.Report r = Recovery.run(logDir);
    return new long[] {r.bytesScanned(), r.frames(), r.nanos()};
  }

  /** Sets every segment's checkpoint back to the start, as if no recovery had ever run. */
  public static void forgetCheckpoints(Path logDir) throws IOException {
    try (var files = java.nio.file.Files.walk(logDir.resolve("topics"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.getFileName().toString().matches("\\d{20}\\.log")) {
          try (var ch =
              java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(4), Recovery.CHECKPOINT_OFFSET);
          }
        }
      }
    }
  }
}
