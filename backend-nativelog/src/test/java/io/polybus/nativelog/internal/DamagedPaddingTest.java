package io.polybus.nativelog.internal;

import static io.polybus.nativelog.internal.SegmentDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A frame whose header was damaged into a padding frame (8 bytes changed) must cost at most that
 * record, and recovery must report it with the file and the byte position. A padding frame's length
 * is only trusted when it is positive, aligned and stays within the claimed part of the segment.
 */
@Timeout(60)
class DamagedPaddingTest {
  private static final int RECORDS = 100;

  @TempDir Path dir;

  @Test
  void aPaddingFrameWhoseLengthRunsFarPastTheTailCostsOnlyThatRecordAndIsReportedByFileAndOffset()
      throws Exception {
    Path segment = writeSegment(new byte[10]);
    List<Integer> positions = framePositions(segment);
    int victim = positions.get(10);
    damage(segment, victim, 256 << 20);

    Recovery.Report report = Recovery.run(dir);

    assertThat(report.corruptFrames()).isEqualTo(1);
    assertThat(report.toString())
        .contains(segment.getFileName().toString())
        .contains("byte " + victim);
    assertThat(readOffsets(segment)).hasSize(RECORDS - 1).doesNotContain(10L);
  }

  @Test
  void aNegativePaddingLengthAfterARecordEndingInZeroesLeavesThatRecordIntact() throws Exception {
    Path segment = writeSegment(new byte[64]); // every frame ends in zero bytes
    List<Integer> positions = framePositions(segment);
    int victim = positions.get(10);
    byte[] before = frameBytes(segment, positions.get(9), victim - positions.get(9));
    damage(segment, victim, -8);

    Recovery.Report report = Recovery.run(dir);

    assertThat(report.corruptFrames()).isEqualTo(1);
    assertThat(report.toString())
        .contains(segment.getFileName().toString())
        .contains("byte " + victim);
    assertThat(frameBytes(segment, positions.get(9), victim - positions.get(9))).isEqualTo(before);
    assertThat(readOffsets(segment)).hasSize(RECORDS - 1).contains(9L).doesNotContain(10L);
  }

  @Test
  void aReaderAlsoRefusesADamagedPaddingLengthWithoutRecovery() throws Exception {
    Path segment = writeSegment(new byte[64]);
    List<Integer> positions = framePositions(segment);
    damage(segment, positions.get(50), -8);
    damage(segment, positions.get(20), 256 << 20);

    assertThat(readOffsets(segment)).hasSize(RECORDS - 2).contains(19L, 21L, 49L, 51L);
  }

  /**
   * One partition directory with one segment of {@link #RECORDS} records, each with {@code
   * payload}.
   */
  private Path writeSegment(byte[] payload) throws Exception {
    Path partition = dir.resolve("topics").resolve("t").resolve("0");
    Files.createDirectories(partition);
    try (Segment s = Segment.createOrOpen(partition, 0, 1 << 20)) {
      RecordCodec codec = new RecordCodec();
      for (int i = 0; i < RECORDS; i++) {
        codec.encode(Message.builder().id("m" + i).payload(payload).build());
        assertThat(s.append(codec, 1000 + i)).isEqualTo(i);
      }
    }
    Segment.discardSpare(partition);
    return partition.resolve(Segment.fileName(0));
  }

  private static List<Integer> framePositions(Path segment) throws Exception {
    List<Integer> out = new ArrayList<>();
    try (Segment s = Segment.open(segment)) {
      int end = Segment.endPosition(s.tail());
      for (int p = HEADER_SIZE; p < end; p += s.lengthAt(p)) {
        out.add(p);
      }
    }
    assertThat(out).hasSize(RECORDS);
    return out;
  }

  /**
   * Sets the frame at {@code position} to the padding state with {@code length}: 8 bytes changed.
   */
  private static void damage(Path segment, int position, int length) throws Exception {
    try (FileChannel ch = FileChannel.open(segment, java.nio.file.StandardOpenOption.WRITE)) {
      ByteBuffer b =
          ByteBuffer.allocate(8)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putInt(length)
              .putInt(STATE_PADDING);
      ch.write(b.flip(), position);
    }
  }

  private static byte[] frameBytes(Path segment, int position, int length) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
      byte[] b = new byte[length];
      f.seek(position);
      f.readFully(b);
      return b;
    }
  }

  private static List<Long> readOffsets(Path segment) throws Exception {
    List<Long> out = new ArrayList<>();
    try (Segment s = Segment.open(segment)) {
      SegmentReader r = new SegmentReader(s, -1);
      Segment.Frame f = new Segment.Frame();
      for (int i = 0; i < 10_000; i++) {
        int rc = r.next(f);
        if (rc == SegmentReader.FRAME) {
          out.add(f.offset);
        } else if (Segment.endPosition(s.tail()) <= r.position()
            || rc == SegmentReader.END_OF_SEGMENT) {
          break;
        }
      }
    }
    return out;
  }
}
