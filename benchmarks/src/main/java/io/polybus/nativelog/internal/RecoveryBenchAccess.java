package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Benchmark-only door into the log's package-private recovery (same package name, on the class path). Not API.
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
          try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(4), Recovery.CHECKPOINT_OFFSET);
          }
        }
      }
    }
  }
}
