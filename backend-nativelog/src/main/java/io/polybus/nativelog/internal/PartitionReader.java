package io.polybus.nativelog.internal;

import java.io.IOException;

/**
 * Reads a partition in offset order, crossing segment boundaries. Not thread-safe: one per
 * consuming thread.
 */
final class PartitionReader {
  private final Partition partition;
  private final long stallTimeoutNanos;
  private SegmentReader reader;
  private final long from;

  PartitionReader(Partition partition, long from, long stallTimeoutNanos) throws IOException {
    this.partition = partition;
    this.from = from;
    this.stallTimeoutNanos = stallTimeoutNanos;
    Segment first = partition.segmentFor(from);
    // A sealed segment's index gives a record at most SegmentIndex.INTERVAL bytes before the one
    // sought.
    this.reader =
        new SegmentReader(
            first, partition.startPosition(first, from, stallTimeoutNanos), stallTimeoutNanos);
  }

  /**
   * Reads the next committed record at or after the start offset into {@code out}: {@link
   * SegmentReader#FRAME} or {@link SegmentReader#NO_DATA} (nothing new yet; call again later).
   */
  int next(Segment.Frame out) throws IOException {
    while (true) {
      reader.segment().requireIntact();
      int rc = reader.next(out);
      if (rc == SegmentReader.FRAME) {
        if (out.offset < from) {
          continue; // seeking: the rest of the way from the indexed record (or the active segment's
          // start)
        }
        return rc;
      }
      if (rc == SegmentReader.NO_DATA) {
        return rc;
      }
      Segment next = partition.successorOf(reader.segment());
      if (next == null) {
        return SegmentReader.NO_DATA; // sealed, and the next segment is not created yet
      }
      reader = new SegmentReader(next, stallTimeoutNanos);
    }
  }

  long corruptFramesSkipped() {
    return reader.corruptFramesSkipped();
  }
}
