package io.polybus.spool;

import io.polybus.Polybus;
import io.polybus.Subscription;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One {@code log:} directory of a spool, {@code gen-<creation millis, 20 digits>}: the log bus, its
 * spool topic and the forwarder subscription on it.
 *
 * <p>A spool appends to one generation at a time, its current one. It starts a new one when it
 * opens (what earlier processes left is then "legacy": forwarded first, oldest generation first)
 * and when the current one has nothing left to forward and has grown past a segment (the log keeps
 * what was consumed, so a generation is deleted as a whole once drained). Fields other than the
 * final ones are guarded by the spool's lock.
 */
final class Generation {
  static final String PREFIX = "gen-";

  final Path dir;
  final long createdMillis;
  final Polybus log;
  final boolean legacy;

  /** The forwarder; paused until this generation's turn comes. Set once, right after creation. */
  Subscription forwarder;

  /** Legacy: messages left to forward, from the log's lag (exact), lowered as they go. */
  long remaining;

  /** Legacy: the size of its files, standing in for the unknown size of what it holds. */
  long diskBytes;

  /** Current: bytes appended by this process, for the decision to start a new generation. */
  long appendedBytes;

  Generation(Path dir, long createdMillis, Polybus log, boolean legacy) {
    this.dir = dir;
    this.createdMillis = createdMillis;
    this.log = log;
    this.legacy = legacy;
  }

  /** The creation time in a generation directory's name, or -1 when it is not one. */
  static long createdMillis(Path dir) {
    String name = dir.getFileName().toString();
    if (!name.startsWith(PREFIX) || name.length() != PREFIX.length() + 20) {
      return -1;
    }
    try {
      return Long.parseLong(name.substring(PREFIX.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static String name(long createdMillis) {
    return PREFIX + String.format("%020d", createdMillis);
  }

  /** Closes the forwarder and the log; idempotent. */
  void close() {
    Subscription s = forwarder;
    if (s != null) {
      s.close();
    }
    log.close();
  }

  /** Deletes the directory and everything in it; the log must be closed. */
  void delete() {
    deleteTree(dir);
  }

  static long size(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException e) {
      return 0;
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("deleting the spool generation " + dir + " failed", e);
    }
  }

  @Override
  public String toString() {
    return dir.toString();
  }
}
