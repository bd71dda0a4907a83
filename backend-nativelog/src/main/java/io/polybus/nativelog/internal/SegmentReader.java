package io.polybus.nativelog.internal;

import static io.polybus.nativelog.internal.SegmentDescriptor.*;

/**
 * Reads committed frames of one segment in order, from any position a frame starts at.
 *
 * <p>Not thread-safe: one reader per consuming thread. It never returns a frame that is not committed or whose CRC,
 * bounds or offset do not check out; such frames are skipped and counted in {@link #corruptFramesSkipped()}. A frame
 * left in writing state longer than the stall timeout (its writer died or froze) is padded, so it is skipped by
 * every reader and its writer, if alive, appends again.
 */
final class SegmentReader {
  static final int FRAME = 1;
  static final int NO_DATA = 0;
  static final int END_OF_SEGMENT = -1;

  private final Segment segment;
  private final long stallTimeoutNanos;
  private int position;
  private long lastOffset;
  private int stallPosition = -1;
  private long stallSince;
  private long corruptSkipped;

  SegmentReader(Segment segment, int position, long stallTimeoutNanos) {
    this.segment = segment;
    this.position = position;
    this.stallTimeoutNanos = stallTimeoutNanos;
    this.lastOffset = segment.baseOffset() - 1;
  }

  SegmentReader(Segment segment, long stallTimeoutNanos) {
    this(segment, HEADER_SIZE, stallTimeoutNanos);
  }

  Segment segment() {
    return segment;
  }

  /** Where the next frame starts. */
  int position() {
    return position;
  }

  long corruptFramesSkipped() {
    return corruptSkipped;
  }

  /** Reads the next committed frame into {@code out}: {@link #FRAME}, {@link #NO_DATA} or {@link #END_OF_SEGMENT}. */
  int next(Segment.Frame out) {
    while (true) {
      if (position + FRAME_HEADER > segment.capacity()) {
        return END_OF_SEGMENT;
      }
      long tail = segment.tail();
      if (position >= Segment.endPosition(tail)) {
        return Segment.isSealed(tail) ? END_OF_SEGMENT : NO_DATA;
      }
      int length = segment.lengthAt(position);
      int state = segment.stateAt(position);
      if (length == 0 || state == STATE_WRITING) {
        // Claimed but not committed: its writer is at work, or died.
        if (!stalledTooLong()) {
          return NO_DATA;
        }
        if (length == 0) {
          if (!skipUnknownHole(tail)) {
            return NO_DATA;
          }
          continue;
        }
        segment.pad(position);
        continue; // re-read: padded by us, or committed just in time
      }
      stallPosition = -1;
      if (state == STATE_PADDING) {
        position += length;
        continue;
      }
      if (state == STATE_COMMITTED && segment.read(position, out) && out.offset > lastOffset
          && out.offset < segment.baseOffset() + (Segment.tailCount(tail) & Integer.MAX_VALUE)) {
        position += length;
        lastOffset = out.offset;
        return FRAME;
      }
      corruptSkipped++;
      if (!skipCorrupt(length, tail)) {
        return END_OF_SEGMENT; // nothing valid after it: the rest of this segment is unreadable
      }
    }
  }

  private boolean stalledTooLong() {
    long now = System.nanoTime();
    if (stallPosition != position) {
      stallPosition = position;
      stallSince = now;
      return false;
    }
    return now - stallSince > stallTimeoutNanos;
  }

  /**
   * A writer died between claiming space and publishing its length. Finds the next committed frame with a valid CRC
   * and marks the gap as padding for everyone.
   */
  private boolean skipUnknownHole(long tail) {
    int end = Segment.endPosition(tail);
    int next = findNextValid(position + ALIGNMENT, end);
    if (next < 0) {
      if (!Segment.isSealed(tail)) {
        return false; // a later append will land after the hole and show where it ends
      }
      next = end; // the hole is the last claim of a sealed segment
    }
    // Order matters: padding first, so the (possibly alive) writer's commit fails and it appends again.
    segment.pad(position);
    segment.casLength(position, 0, next - position);
    return true;
  }

  /** Skips a corrupt frame: by its length when that is plausible, else to the next valid frame. */
  private boolean skipCorrupt(int length, long tail) {
    int end = Segment.endPosition(tail);
    if (length >= FRAME_HEADER && (length & (ALIGNMENT - 1)) == 0 && position + (long) length <= end) {
      position += length;
      return true;
    }
    int next = findNextValid(position + ALIGNMENT, end);
    if (next < 0) {
      position = end;
      return false;
    }
    position = next;
    return true;
  }

  private int findNextValid(int from, int end) {
    Segment.Frame probe = new Segment.Frame();
    for (int p = from; p + FRAME_HEADER <= end; p += ALIGNMENT) {
      if (segment.stateAt(p) == STATE_COMMITTED && segment.read(p, probe) && probe.offset > lastOffset) {
        return p;
      }
    }
    return -1;
  }
}
