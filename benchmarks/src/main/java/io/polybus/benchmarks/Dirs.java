package io.polybus.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temp directories of the harnesses. Not thread-safe; stateless helpers. */
final class Dirs {
  private Dirs() {}

  /** Deletes {@code dir} and everything under it when closed; does nothing for null. */
  interface DeleteOnClose extends AutoCloseable {
    @Override
    void close() throws IOException;
  }

  static DeleteOnClose deleteOnClose(Path dir) {
    return () -> {
      if (dir != null) {
        deleteRecursively(dir);
      }
    };
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
