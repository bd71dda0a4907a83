package io.polybus.nativelog.internal;

import java.io.IOException;

/**
 * Reads a partition in offset order, crossing segment boundaries. Not thread-safe: one per consuming thread.
 */
final class PartitionReader {
  private final Partition partition;
  private final long stallTimeoutNanos;
  private SegmentReader reader;
  private final long from;

  PartitionReader(Partition partition, long from, long stallTimeoutNanos) {
    this.partition = partition;
    this.from = from;
    this.stallTimeoutNanos = stallTimeoutNanos;
    this.reader = new SegmentReader(partition.segmentFor(from), stallTimeoutNanos);
  }

  /**
   * Reads the next committed record at or after the start offset into {@code out}: {@link SegmentReader#FRAME} or
   * {@link SegmentReader#NO_DATA} (nothing new yet; call again later).
   */
  int next(Segment.Frame out) throws IOException {
    while (true) {
      int rc = reader.next(out);
      if (rc == SegmentReader.FRAME) {
        if (out.offset < from) {
          continue; // seeking: a sparse index would jump closer; scanning is correct, just slower
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
