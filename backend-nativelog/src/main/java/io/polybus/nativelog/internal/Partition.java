package io.polybus.nativelog.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * One partition: a directory of segments named by their base offset. Appends go to the newest
 * segment; when it is full it is sealed and the next one is created (by whichever thread or process
 * gets there first; the others open it), starting at the offset after the sealed segment's last
 * claimed frame.
 *
 * <p>Thread-safe. Several processes may hold the same partition open; they coordinate only through
 * the files.
 */
final class Partition implements AutoCloseable {
  final Path dir;
  private final int segmentCapacity;
  private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  private volatile Segment active;

  private Partition(Path dir, int segmentCapacity) {
    this.dir = dir;
    this.segmentCapacity = segmentCapacity;
  }

  /** Opens (creating if needed) the partition directory and its segments. */
  static Partition open(Path dir, int segmentCapacity) throws IOException {
    Files.createDirectories(dir);
    Partition p = new Partition(dir, segmentCapacity);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.log")) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.startsWith(".") || !name.matches("\\d{20}\\.log")) {
          continue; // temp files of a creator that died, or foreign files
        }
        Segment s = Segment.open(f);
        p.segments.put(s.baseOffset(), s);
      }
    }
    if (p.segments.isEmpty()) {
      Segment s = Segment.createOrOpen(dir, 0, segmentCapacity);
      p.segments.put(s.baseOffset(), s);
    }
    p.active = p.segments.lastEntry().getValue();
    return p;
  }

  /** Appends one encoded record; returns its offset. */
  long append(RecordCodec record, long timestampMillis) throws IOException {
    while (true) {
      Segment s = active;
      s.requireIntact(); // one volatile read; the size itself is checked off the hot path
      // (Segment's class doc)
      long offset = s.append(record, timestampMillis);
      if (offset >= 0) {
        return offset;
      }
      roll(s);
    }
  }

  /** Moves past a sealed segment to the one after it, creating it if nobody has. */
  private void roll(Segment full) throws IOException {
    synchronized (this) {
      if (active != full) {
        return;
      }
      Segment next = nextOf(full, true);
      active = next;
    }
  }

  /**
   * The segment after {@code sealed}: open already, on disk (made by another process), or created
   * when {@code create}; null when it does not exist yet and {@code create} is false.
   */
  Segment nextOf(Segment sealed, boolean create) throws IOException {
    long nextBase = sealed.baseOffset() + Segment.tailCount(sealed.tail());
    Segment s = segments.get(nextBase);
    if (s != null) {
      return s;
    }
    synchronized (this) {
      s = segments.get(nextBase);
      if (s != null) {
        return s;
      }
      Path file = dir.resolve(Segment.fileName(nextBase));
      if (create) {
        s = Segment.createOrOpen(dir, nextBase, segmentCapacity);
      } else {
        try {
          s = Segment.open(file);
        } catch (NoSuchFileException e) {
          return null;
        }
      }
      segments.put(nextBase, s);
      return s;
    }
  }

  /**
   * The segment after {@code current} to read next: the next one by offset, or, when retention
   * deleted it, the oldest one after it still on disk. Null when there is none yet.
   */
  Segment successorOf(Segment current) throws IOException {
    Segment next = nextOf(current, false);
    if (next != null) {
      return next;
    }
    Map.Entry<Long, Segment> later = segments.higherEntry(current.baseOffset());
    return later != null ? later.getValue() : null;
  }

  /**
   * Deletes whole sealed segments, oldest first, while the oldest one's newest record is older than
   * {@code maxAgeMillis} or the partition's segments take more than {@code maxBytes} (0: no limit).
   * The newest segment is never deleted, and no file is ever truncated: another process may have it
   * mapped, and on Linux its mapping stays valid after the unlink. Returns how many segments this
   * call deleted.
   */
  int enforceRetention(long maxAgeMillis, long maxBytes, long nowMillis, long stallTimeoutNanos)
      throws IOException {
    forgetDeleted();
    int deleted = 0;
    while (true) {
      Map.Entry<Long, Segment> first = segments.firstEntry();
      if (first == null || first.getKey().equals(segments.lastKey())) {
        return deleted;
      }
      Segment s = first.getValue();
      boolean tooBig = maxBytes > 0 && (long) segments.size() * s.capacity() > maxBytes;
      boolean tooOld = false;
      if (!tooBig && maxAgeMillis > 0) {
        // The index knows the segment's newest timestamp; none yet while a record of it is being
        // written.
        SegmentIndex idx = indexOf(s, stallTimeoutNanos, true);
        tooOld = idx != null && idx.newestTimestamp < nowMillis - maxAgeMillis;
      }
      if (!tooBig && !tooOld) {
        return deleted;
      }
      Files.deleteIfExists(s.file); // another process may have deleted it first
      Files.deleteIfExists(SegmentIndex.fileOf(s));
      segments.remove(first.getKey());
      indexes.remove(first.getKey());
      s.close();
      deleted++;
    }
  }

  /** Indexes of sealed segments, by base offset. */
  private final ConcurrentSkipListMap<Long, SegmentIndex> indexes = new ConcurrentSkipListMap<>();

  /**
   * The index of a sealed segment (loaded, or built and written), or null for the active segment
   * and while a record of it is still being written.
   */
  SegmentIndex indexOf(Segment s, long stallTimeoutNanos, boolean waitForWriters)
      throws IOException {
    SegmentIndex idx = indexes.get(s.baseOffset());
    s.requireIntact();
    if (idx != null || !Segment.isSealed(s.tail())) {
      return idx;
    }
    idx = SegmentIndex.of(s, stallTimeoutNanos, waitForWriters);
    if (idx != null) {
      indexes.put(s.baseOffset(), idx);
    }
    return idx;
  }

  /**
   * Where a reader looking for {@code offset} in {@code s} starts: an indexed record at or below
   * it.
   */
  int startPosition(Segment s, long offset, long stallTimeoutNanos) throws IOException {
    SegmentIndex idx = indexOf(s, stallTimeoutNanos, false);
    return idx == null ? SegmentDescriptor.HEADER_SIZE : idx.positionFor(offset);
  }

  /**
   * The offset of the first record whose timestamp is at or after {@code timestampMillis}, or the
   * end of the partition if there is none. Whole sealed segments whose newest record is older are
   * skipped by their index's newest timestamp; within a segment the index's time column gives where
   * to start, then a short scan. A record still being written ends the scan: the offset after the
   * last record read is returned, so nothing at or after the instant is missed.
   */
  long offsetAt(long timestampMillis, long stallTimeoutNanos) throws IOException {
    for (Segment s : segments.values()) {
      SegmentIndex idx = indexOf(s, stallTimeoutNanos, false);
      if (idx != null && idx.newestTimestamp < timestampMillis) {
        continue;
      }
      int from =
          idx == null ? SegmentDescriptor.HEADER_SIZE : idx.positionForTimestamp(timestampMillis);
      SegmentReader r = new SegmentReader(s, from, stallTimeoutNanos);
      Segment.Frame f = new Segment.Frame();
      long next = s.baseOffset();
      while (true) {
        int rc = r.next(f);
        if (rc == SegmentReader.FRAME) {
          if (f.timestampMillis >= timestampMillis) {
            return f.offset;
          }
          next = f.offset + 1;
        } else if (rc == SegmentReader.NO_DATA) {
          return next;
        } else {
          break; // END_OF_SEGMENT: on to the next segment
        }
      }
    }
    return endOffset();
  }

  /** Drops the segments whose files another process deleted (retention). */
  private void forgetDeleted() throws IOException {
    for (Map.Entry<Long, Segment> e : segments.entrySet()) {
      if (e.getValue() != active && !Files.exists(e.getValue().file)) {
        segments.remove(e.getKey());
        indexes.remove(e.getKey());
        e.getValue().close();
      }
    }
  }

  /**
   * Checks the size of every open segment of this partition (one fstat each, see {@link
   * Segment#checkSize}); returns the ones found shorter than their mapping, which are refused from
   * now on.
   */
  java.util.List<Segment> truncatedSegments() {
    java.util.List<Segment> out = new java.util.ArrayList<>();
    for (Segment s : segments.values()) {
      if (s.checkSize() != null) {
        out.add(s);
      }
    }
    return out;
  }

  /** The oldest segment still on disk. */
  Segment first() {
    return segments.firstEntry().getValue();
  }

  /**
   * The segment that holds {@code offset} (the one with the greatest base not above it), or the
   * first one.
   */
  Segment segmentFor(long offset) {
    Map.Entry<Long, Segment> e = segments.floorEntry(offset);
    return e != null ? e.getValue() : first();
  }

  /**
   * The offset the next append will get, as far as this process knows (the active segment's claimed
   * end).
   */
  long endOffset() throws IOException {
    Segment s = active;
    while (true) {
      s.requireIntact();
      long tail = s.tail();
      if (!Segment.isSealed(tail)) {
        return s.baseOffset() + Segment.tailCount(tail);
      }
      Segment next = nextOf(s, false);
      if (next == null) {
        return s.baseOffset() + Segment.tailCount(tail);
      }
      s = next;
    }
  }

  /** A reader positioned at the first record with an offset at or after {@code offset}. */
  PartitionReader readerFrom(long offset, long stallTimeoutNanos) throws IOException {
    return new PartitionReader(this, offset, stallTimeoutNanos);
  }

  /** Forces every segment of this partition that this process wrote to since the last force. */
  void force() {
    for (Segment s : segments.values()) {
      s.force();
    }
  }

  @Override
  public void close() {
    Segment.discardSpare(dir);
    for (Segment s : segments.values()) {
      try {
        s.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
