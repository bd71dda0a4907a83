package io.polybus.nativelog.internal;

import static io.polybus.nativelog.internal.SegmentDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A committed frame whose length was damaged into another plausible one (positive, aligned, within
 * the claimed end) fails its CRC; its length is not covered by the CRC, so it must not decide where
 * reading goes on: that costs at most that record. Item 5 did the same for padding frames ({@link
 * DamagedPaddingTest}).
 */
@Timeout(60)
class DamagedLengthTest {
  private static final int RECORDS = 100;

  @TempDir Path dir;

  @Test
  void aCommittedFrameWhoseLengthWasDamagedLongerCostsOnlyThatRecord() throws Exception {
    Path segment = writeSegment();
    List<Integer> positions = framePositions(segment);
    int victim = positions.get(10);
    setLength(
        segment, victim, positions.get(30) - victim); // would skip records 11 to 29 if trusted

    assertThat(readOffsets(segment))
        .hasSize(RECORDS - 1)
        .doesNotContain(10L)
        .contains(11L, 29L, 30L);

    Recovery.Report report = Recovery.run(dir);
    assertThat(report.corruptFrames()).isEqualTo(1);
    assertThat(report.toString())
        .contains(segment.getFileName().toString())
        .contains("byte " + victim);
    assertThat(readOffsets(segment)).hasSize(RECORDS - 1).doesNotContain(10L);
  }

  @Test
  void aCommittedFrameWhoseLengthWasDamagedShorterCostsOnlyThatRecord() throws Exception {
    Path segment = writeSegment();
    List<Integer> positions = framePositions(segment);
    setLength(segment, positions.get(10), FRAME_HEADER); // lands inside the record's own body

    assertThat(readOffsets(segment)).hasSize(RECORDS - 1).doesNotContain(10L).contains(9L, 11L);
  }

  @Test
  void aCorruptFrameJustBeforeAnAppendStillBeingWrittenLeavesTheReaderWaitingForThatAppend()
      throws Exception {
    Path segment = writeSegment();
    List<Integer> positions = framePositions(segment);
    int last = positions.get(RECORDS - 1);
    flipBodyByte(segment, last);
    try (Segment s = Segment.open(segment)) {
      int inProgress =
          s.claimAndAbandonForTest(40); // its writer is still at work, as far as readers can tell
      SegmentReader r = new SegmentReader(s, TimeUnit.MINUTES.toNanos(1));
      Segment.Frame f = new Segment.Frame();
      int read = 0;
      while (r.next(f) == SegmentReader.FRAME) {
        read++;
      }
      assertThat(read).isEqualTo(RECORDS - 1);
      assertThat(r.position())
          .isEqualTo(inProgress); // not past it: its record, once committed, is read
    }
  }

  private Path writeSegment() throws Exception {
    Path partition = Files.createDirectories(dir.resolve("topics").resolve("t").resolve("0"));
    try (Segment s = Segment.createOrOpen(partition, 0, 1 << 20)) {
      RecordCodec codec = new RecordCodec();
      for (int i = 0; i < RECORDS; i++) {
        codec.encode(Message.builder().id("m" + i).payload("payload of record " + i).build());
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

  private static void setLength(Path segment, int position, int length) throws Exception {
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.write(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, length),
          position + FRAME_LENGTH);
    }
  }

  private static void flipBodyByte(Path segment, int position) throws Exception {
    try (FileChannel ch =
        FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, position + FRAME_HEADER);
      b.put(0, (byte) (b.get(0) ^ 0x40));
      ch.write(b.rewind(), position + FRAME_HEADER);
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
