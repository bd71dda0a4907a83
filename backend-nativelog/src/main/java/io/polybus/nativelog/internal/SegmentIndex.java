package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The sparse offset and time index of one sealed segment, in {@code <base>.index} next to it.
 * Immutable once built.
 *
 * <pre>
 *   0   magic "PLBIDX01"         8  version (int)             12 interval (int)
 *   16  segment base offset      24 segment capacity
 *   32  entry count (int)        36 CRC32C of the entries (int)
 *   40  segment end position     44 records in the segment (int)
 *   48  newest timestamp in the segment (Long.MIN_VALUE: no record)
 *   64  entries, 16 bytes each: offset - base (int) | position (int) | newest timestamp before that record (long)
 * </pre>
 *
 * <p>An entry is kept for the first record at or after every {@link #INTERVAL} bytes of the
 * segment, so a seek scans at most that many bytes. The file is only a cache of what the segment
 * says: it is built from the segment when missing, and rebuilt (with a warning) when its header,
 * size or CRC do not check out — a truncated or damaged index never misleads a reader. It is
 * written under a temporary name and moved into place, so nobody reads half of one.
 *
 * <p>Thread-safe (immutable).
 */
final class SegmentIndex {
  static final int INTERVAL = 4096;
  private static final long MAGIC = 0x3130584449424C50L; // "PLBIDX01"
  private static final int VERSION = 1;
  private static final int HEADER = 64;
  private static final int ENTRY = 16;

  final long baseOffset;
  final int endPosition;
  final int records;
  final long newestTimestamp;
  private final int[] relOffsets;
  private final int[] positions;
  private final long[] newestBefore;

  private SegmentIndex(
      long baseOffset,
      int endPosition,
      int records,
      long newestTimestamp,
      int[] relOffsets,
      int[] positions,
      long[] newestBefore) {
    this.baseOffset = baseOffset;
    this.endPosition = endPosition;
    this.records = records;
    this.newestTimestamp = newestTimestamp;
    this.relOffsets = relOffsets;
    this.positions = positions;
    this.newestBefore = newestBefore;
  }

  static Path fileOf(Segment s) {
    return fileOf(s.file);
  }

  /** {@code <base>.index} beside the segment file {@code <base>.log}. */
  static Path fileOf(Path segmentFile) {
    String name = segmentFile.getFileName().toString();
    return segmentFile.resolveSibling(
        name.substring(0, name.length() - ".log".length()) + ".index");
  }

  /**
   * The index of a sealed segment: loaded from its file, or built from the segment (and written)
   * when the file is missing or does not check out. Null while a record of the segment is still
   * being written (try again later).
   */
  static SegmentIndex of(Segment s, long stallTimeoutNanos, boolean waitForWriters)
      throws IOException {
    Path file = fileOf(s);
    try {
      SegmentIndex loaded = load(file, s);
      if (loaded != null) {
        return loaded;
      }
      System.getLogger(SegmentIndex.class.getName())
          .log(
              System.Logger.Level.WARNING,
              file
                  + " does not match its segment (damaged or truncated): rebuilding it from "
                  + s.file);
    } catch (NoSuchFileException e) {
      // never built yet
    }
    SegmentIndex built = build(s, stallTimeoutNanos, waitForWriters);
    if (built != null) {
      built.write(file, s.capacity());
    }
    return built;
  }

  /** Reads and checks an index file; null when it does not check out. */
  static SegmentIndex load(Path file, Segment s) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < HEADER
        || b.getLong(0) != MAGIC
        || b.getInt(8) != VERSION
        || b.getInt(12) != INTERVAL
        || b.getLong(16) != s.baseOffset()
        || b.getLong(24) != s.capacity()) {
      return null;
    }
    int count = b.getInt(32);
    if (count < 0 || (long) HEADER + (long) count * ENTRY != bytes.length) {
      return null;
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, HEADER, count * ENTRY);
    int end = b.getInt(40);
    if ((int) crc.getValue() != b.getInt(36) || end != Segment.endPosition(s.tail())) {
      return null;
    }
    int[] rel = new int[count];
    int[] pos = new int[count];
    long[] before = new long[count];
    for (int i = 0; i < count; i++) {
      int at = HEADER + i * ENTRY;
      rel[i] = b.getInt(at);
      pos[i] = b.getInt(at + 4);
      before[i] = b.getLong(at + 8);
      if (pos[i] < SegmentDescriptor.HEADER_SIZE
          || pos[i] >= end
          || (i > 0
              && (rel[i] <= rel[i - 1] || pos[i] <= pos[i - 1] || before[i] < before[i - 1]))) {
        return null;
      }
    }
    return new SegmentIndex(s.baseOffset(), end, b.getInt(44), b.getLong(48), rel, pos, before);
  }

  /**
   * Scans a sealed segment; null when a record is still being written (after waiting out the stall
   * timeout when {@code waitForWriters}).
   */
  static SegmentIndex build(Segment s, long stallTimeoutNanos, boolean waitForWriters) {
    long tail = s.tail();
    if (!Segment.isSealed(tail)) {
      return null;
    }
    SegmentReader r = new SegmentReader(s, stallTimeoutNanos);
    Segment.Frame f = new Segment.Frame();
    int n = 0;
    int[] rel = new int[16];
    int[] pos = new int[16];
    long[] before = new long[16];
    long newest = Long.MIN_VALUE;
    int records = 0;
    int nextMark = 0;
    long giveUp = System.nanoTime() + (waitForWriters ? stallTimeoutNanos + 100_000_000L : 0);
    while (true) {
      int rc = r.next(f);
      if (rc == SegmentReader.NO_DATA) {
        // A record still being written, or left so by a writer that died: the reader pads the
        // latter once the
        // stall timeout is over, so waiting that long always ends the scan.
        if (System.nanoTime() > giveUp) {
          return null;
        }
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return null;
        }
        continue;
      }
      if (rc == SegmentReader.END_OF_SEGMENT) {
        break;
      }
      // The frame read may start after `at` (padding skipped): its own start is where the reader is
      // minus its length.
      int start = r.position() - f.length;
      if (start >= nextMark) {
        if (n == rel.length) {
          rel = java.util.Arrays.copyOf(rel, n * 2);
          pos = java.util.Arrays.copyOf(pos, n * 2);
          before = java.util.Arrays.copyOf(before, n * 2);
        }
        rel[n] = (int) (f.offset - s.baseOffset());
        pos[n] = start;
        before[n] = newest;
        n++;
        nextMark = (start / INTERVAL + 1) * INTERVAL;
      }
      newest = Math.max(newest, f.timestampMillis);
      records++;
    }
    return new SegmentIndex(
        s.baseOffset(),
        Segment.endPosition(tail),
        records,
        newest,
        java.util.Arrays.copyOf(rel, n),
        java.util.Arrays.copyOf(pos, n),
        java.util.Arrays.copyOf(before, n));
  }

  private void write(Path file, int capacity) throws IOException {
    int count = positions.length;
    ByteBuffer b = ByteBuffer.allocate(HEADER + count * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(0, MAGIC)
        .putInt(8, VERSION)
        .putInt(12, INTERVAL)
        .putLong(16, baseOffset)
        .putLong(24, capacity)
        .putInt(32, count)
        .putInt(40, endPosition)
        .putInt(44, records)
        .putLong(48, newestTimestamp);
    for (int i = 0; i < count; i++) {
      int at = HEADER + i * ENTRY;
      b.putInt(at, relOffsets[i]).putInt(at + 4, positions[i]).putLong(at + 8, newestBefore[i]);
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), HEADER, count * ENTRY);
    b.putInt(36, (int) crc.getValue());
    Path tmp = file.resolveSibling(".tmp-" + UUID.randomUUID() + ".index");
    try {
      Files.write(tmp, b.array());
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (NoSuchFileException e) {
      // the segment's directory or file went away (retention): nothing to index
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Where to start reading to find {@code offset}: the position of the last indexed record at or
   * below it.
   */
  int positionFor(long offset) {
    long rel = offset - baseOffset;
    int lo = 0;
    int hi = positions.length - 1;
    int best = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (relOffsets[mid] <= rel) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best < 0 ? SegmentDescriptor.HEADER_SIZE : positions[best];
  }

  /**
   * Where to start reading to find the first record stamped at or after {@code millis}: the last
   * indexed record before which every record is older.
   */
  int positionForTimestamp(long millis) {
    int lo = 0;
    int hi = positions.length - 1;
    int best = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (newestBefore[mid] < millis) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best < 0 ? SegmentDescriptor.HEADER_SIZE : positions[best];
  }

  int entries() {
    return positions.length;
  }
}
