package io.polybus.nativelog.internal;

import static io.polybus.nativelog.internal.SegmentDescriptor.*;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads committed frames of one segment in order, from any position a frame starts at.
 *
 * <p>Not thread-safe: one reader per consuming thread. It never returns a frame that is not
 * committed or whose CRC, bounds or offset do not check out; such frames are skipped and counted in
 * {@link #corruptFramesSkipped()}. A frame left in writing state longer than the stall timeout (its
 * writer died or froze) is padded, so it is skipped by every reader and its writer, if alive,
 * appends again.
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

  /**
   * Where and what the skipped corrupt frames were, for recovery's report; null unless asked for.
   */
  private List<String> damage;

  private int damageLimit;

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

  /**
   * Keeps, from now on, the position and kind of each corrupt frame skipped (at most {@code max} of
   * them).
   */
  void recordDamage(int max) {
    damage = new ArrayList<>();
    damageLimit = max;
  }

  /**
   * "at byte N: what", per corrupt frame skipped since {@link #recordDamage}; empty if not asked
   * for.
   */
  List<String> damage() {
    return damage == null ? List.of() : damage;
  }

  /**
   * Reads the next committed frame into {@code out}: {@link #FRAME}, {@link #NO_DATA} or {@link
   * #END_OF_SEGMENT}.
   */
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
        // A padding length is only as good as the 4 bytes it is in: one that is negative, unaligned
        // or runs past
        // the claimed end would skip committed records (or walk back into the previous one and pad
        // inside it).
        // Every length a reader or recovery pads with is aligned, at least 8 and ends within the
        // claimed end.
        if (length >= ALIGNMENT
            && (length & (ALIGNMENT - 1)) == 0
            && position + (long) length <= Segment.endPosition(tail)) {
          position += length;
          continue;
        }
        corrupt(
            "padding frame with an impossible length "
                + length
                + " (claimed end "
                + Segment.endPosition(tail)
                + ")");
        if (!skipToNextValid(tail)) {
          return END_OF_SEGMENT;
        }
        continue;
      }
      if (state == STATE_COMMITTED
          && segment.read(position, out)
          && out.offset > lastOffset
          && out.offset < segment.baseOffset() + (Segment.tailCount(tail) & Integer.MAX_VALUE)) {
        position += length;
        lastOffset = out.offset;
        return FRAME;
      }
      corrupt(
          "frame of length "
              + length
              + " in state "
              + state
              + " fails its CRC, bounds or offset check");
      if (!skipCorrupt(length, tail)) {
        return END_OF_SEGMENT; // nothing valid after it: the rest of this segment is unreadable
      }
    }
  }

  private void corrupt(String what) {
    corruptSkipped++;
    if (damage != null && damage.size() < damageLimit) {
      damage.add("at byte " + position + ": " + what);
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
   * A writer died between claiming space and publishing its length. Finds the next committed frame
   * with a valid CRC and marks the gap as padding for everyone.
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
    // Order matters: padding first, so the (possibly alive) writer's commit fails and it appends
    // again.
    segment.pad(position);
    segment.casLength(position, 0, next - position);
    return true;
  }

  /**
   * Skips a corrupt committed frame. Its length is not covered by its CRC, so a plausible one may
   * still be damaged: a longer one would skip the valid records after it. So the frame's own extent
   * is searched for the next frame with a valid CRC first (with an intact length there is none: the
   * search ends at the next frame); one found there is where the reader goes on. Otherwise the
   * length is taken when it is plausible, since what it leads to may be an append still being
   * written (no CRC to check yet, and the search must not pass it), else the reader goes on at the
   * next valid frame of the segment.
   */
  private boolean skipCorrupt(int length, long tail) {
    int end = Segment.endPosition(tail);
    boolean plausible =
        length >= FRAME_HEADER
            && (length & (ALIGNMENT - 1)) == 0
            && position + (long) length <= end;
    if (!plausible) {
      return skipToNextValid(tail);
    }
    int next = findNextValid(position + ALIGNMENT, Math.min(end, position + length + FRAME_HEADER));
    position = next >= 0 ? next : position + length;
    return true;
  }

  /**
   * Moves to the next committed frame with a valid CRC after this position; false (at the end) if
   * none.
   */
  private boolean skipToNextValid(long tail) {
    int end = Segment.endPosition(tail);
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
      if (segment.stateAt(p) == STATE_COMMITTED
          && segment.read(p, probe)
          && probe.offset > lastOffset) {
        return p;
      }
    }
    return -1;
  }
}
