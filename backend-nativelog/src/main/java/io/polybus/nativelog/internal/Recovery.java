package io.polybus.nativelog.internal;

import static io.polybus.nativelog.internal.SegmentDescriptor.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The scan after an unclean stop, run when a process opens a log directory that no other process
 * has open (so no writer is alive and nothing claimed but unwritten will ever be finished).
 *
 * <p>For each segment, from its checkpoint (the position up to which the last recovery verified it,
 * in the segment header) to its tail: every frame's length, CRC32C and offset order are checked; a
 * frame claimed but never committed (its writer died) is padded at once, without waiting for the
 * stall timeout, so readers never wait for it; a claim whose length was never written is padded up
 * to the next valid frame or to the tail. Corrupt frames stay where they are (every reader verifies
 * and skips them) and are reported. The checkpoint then moves to the tail, so the next recovery
 * scans only what was appended since. A segment file shorter than its header says (a copy or a disk
 * that lost its end) is extended back with zeroes: the records in the lost part are gone, the rest
 * stays readable.
 *
 * <p>Not thread-safe; one run per directory at a time (callers hold the directory's exclusive
 * lock).
 */
final class Recovery {
  /** Where the verified position of a segment is kept in its header (0: never verified). */
  static final int CHECKPOINT_OFFSET = 40;

  /** What a recovery found and did. Immutable. */
  record Report(
      int segments,
      long bytesScanned,
      long frames,
      long corruptFrames,
      int claimsPadded,
      int segmentsExtended,
      long nanos,
      List<String> damage) {
    /** At most this many corrupt frames are listed by file and position. */
    static final int DAMAGE_LISTED = 20;

    boolean foundDamage() {
      return corruptFrames > 0 || claimsPadded > 0 || segmentsExtended > 0;
    }

    @Override
    public String toString() {
      return "recovery scanned "
          + bytesScanned
          + " bytes in "
          + segments
          + " segments ("
          + frames
          + " records) in "
          + nanos / 1_000_000
          + " ms: "
          + corruptFrames
          + " corrupt records skipped, "
          + claimsPadded
          + " unfinished appends padded, "
          + segmentsExtended
          + " truncated segments extended"
          + (damage.isEmpty()
              ? ""
              : "; corrupt: "
                  + String.join("; ", damage)
                  + (corruptFrames > damage.size() ? "; ..." : ""));
    }
  }

  private int segments;
  private long bytes;
  private long frames;
  private long corrupt;
  private int padded;
  private int extended;
  private final List<String> damage = new ArrayList<>();

  private Recovery() {}

  /** Scans every segment of every topic under {@code logDir} from its checkpoint. */
  static Report run(Path logDir) throws IOException {
    long start = System.nanoTime();
    Recovery r = new Recovery();
    Path topics = logDir.resolve("topics");
    if (Files.isDirectory(topics)) {
      for (Path topic : list(topics, "*")) {
        if (!Files.isDirectory(topic)) {
          continue;
        }
        for (Path partition : list(topic, "[0-9]*")) {
          if (Files.isDirectory(partition)) {
            for (Path segment : list(partition, "*.log")) {
              String name = segment.getFileName().toString();
              if (name.matches("\\d{20}\\.log")) {
                r.recover(segment);
              }
            }
            Segment.deleteOrphanSpares(
                partition); // next segments prepared by processes that are gone
          }
        }
      }
    }
    return new Report(
        r.segments,
        r.bytes,
        r.frames,
        r.corrupt,
        r.padded,
        r.extended,
        System.nanoTime() - start,
        List.copyOf(r.damage));
  }

  private static List<Path> list(Path dir, String glob) throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
      s.forEach(out::add);
    }
    out.sort(null);
    return out;
  }

  private void recover(Path file) throws IOException {
    int checkpoint;
    int claimedEnd;
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
      while (header.hasRemaining() && ch.read(header, header.position()) > 0) {
        // read the whole header
      }
      if (header.hasRemaining() || header.getLong(MAGIC_OFFSET) != MAGIC) {
        throw new CorruptLogException(
            file
                + ": not a Polybus segment (header missing or bad magic); move it out"
                + " of the log directory to open the rest");
      }
      long capacity = header.getLong(CAPACITY_OFFSET);
      if (capacity < HEADER_SIZE * 2L
          || capacity > Integer.MAX_VALUE
          || capacity % ALIGNMENT != 0) {
        throw new CorruptLogException(
            file + ": not a Polybus segment (capacity " + capacity + " in its header)");
      }
      claimedEnd = Segment.endPosition(header.getLong(TAIL_OFFSET));
      if (claimedEnd < HEADER_SIZE || claimedEnd > capacity) {
        throw new CorruptLogException(
            file
                + ": tail position "
                + claimedEnd
                + " outside the segment ("
                + capacity
                + " bytes)");
      }
      checkpoint = header.getInt(CHECKPOINT_OFFSET);
      long size = ch.size();
      if (size < capacity) {
        // Zeroes read as never-written claims: recovery pads them below, so readers move on to the
        // next segment.
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        for (long p = size; p < capacity; ) {
          zeros.clear().limit((int) Math.min(zeros.capacity(), capacity - p));
          p += ch.write(zeros, p);
        }
        extended++;
        Files.deleteIfExists(
            SegmentIndex.fileOf(file)); // its positions may point into the lost part
        checkpoint = Math.min(checkpoint, (int) (size & -ALIGNMENT));
        System.getLogger(Recovery.class.getName())
            .log(
                System.Logger.Level.WARNING,
                file
                    + " was truncated to "
                    + size
                    + " of "
                    + capacity
                    + " bytes: extended back with zeroes; records after byte "
                    + size
                    + " are lost");
      } else if (size > capacity) {
        throw new CorruptLogException(
            file + ": header says " + capacity + " bytes, file has " + size);
      }
    }
    if (checkpoint < HEADER_SIZE) {
      checkpoint = HEADER_SIZE;
    }
    if (checkpoint == claimedEnd) {
      return; // verified up to its tail by an earlier recovery, and nothing appended since
    }
    try (Segment s = Segment.open(file)) {
      segments++;
      int end = Segment.endPosition(s.tail());
      if (checkpoint > end || (checkpoint & (ALIGNMENT - 1)) != 0) {
        checkpoint = HEADER_SIZE; // not a position this scan can trust: verify the whole segment
      }
      SegmentReader reader =
          new SegmentReader(s, checkpoint, -1); // no writer is alive: nothing is worth a wait
      reader.recordDamage(Math.max(0, Report.DAMAGE_LISTED - damage.size()));
      Segment.Frame f = new Segment.Frame();
      int lastNoData = -1;
      while (true) {
        int rc = reader.next(f);
        if (rc == SegmentReader.FRAME) {
          frames++;
          continue;
        }
        if (rc == SegmentReader.END_OF_SEGMENT) {
          break;
        }
        int position = reader.position();
        int claimed = Segment.endPosition(s.tail());
        if (position >= claimed) {
          break; // the end of what was ever claimed
        }
        if (position != lastNoData) {
          // A claim never committed: the reader pads it on the next call (its stall timeout is over
          // at once), or,
          // when its length was never written either, pads up to the next valid frame if there is
          // one.
          lastNoData = position;
          if (s.lengthAt(position) != 0) {
            padded++;
          }
          continue;
        }
        // Still there: a claim without a length and nothing valid after it, the last append of a
        // writer that died.
        s.pad(position);
        s.casLength(position, 0, claimed - position);
        padded++;
      }
      corrupt += reader.corruptFramesSkipped();
      for (String d : reader.damage()) {
        damage.add(file + " " + d);
      }
      int verified = reader.position();
      bytes += Math.max(0, verified - checkpoint);
      ByteBuffer b =
          ByteBuffer.allocate(4)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putInt(0, Math.min(verified, Segment.endPosition(s.tail())));
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ch.write(b, CHECKPOINT_OFFSET);
      }
    }
  }
}
