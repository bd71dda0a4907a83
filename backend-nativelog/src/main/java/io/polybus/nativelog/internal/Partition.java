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
 * One partition: a directory of segments named by their base offset. Appends go to the newest segment; when it is
 * full it is sealed and the next one is created (by whichever thread or process gets there first; the others open
 * it), starting at the offset after the sealed segment's last claimed frame.
 *
 * <p>Thread-safe. Several processes may hold the same partition open; they coordinate only through the files.
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
   * The segment after {@code sealed}: open already, on disk (made by another process), or created when
   * {@code create}; null when it does not exist yet and {@code create} is false.
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

  /** The oldest segment still on disk. */
  Segment first() {
    return segments.firstEntry().getValue();
  }

  /** The segment that holds {@code offset} (the one with the greatest base not above it), or the first one. */
  Segment segmentFor(long offset) {
    Map.Entry<Long, Segment> e = segments.floorEntry(offset);
    return e != null ? e.getValue() : first();
  }

  /** The offset the next append will get, as far as this process knows (the active segment's claimed end). */
  long endOffset() throws IOException {
    Segment s = active;
    while (true) {
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
  PartitionReader readerFrom(long offset, long stallTimeoutNanos) {
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
    for (Segment s : segments.values()) {
      try {
        s.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
