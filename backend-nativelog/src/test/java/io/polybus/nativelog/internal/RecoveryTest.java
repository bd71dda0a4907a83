package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import java.nio.ByteBuffer;
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

/** The scan at open when no other process has the log open. */
@Timeout(60)
class RecoveryTest {
  @TempDir Path log;

  private Path partitionDir() {
    return log.resolve("topics").resolve("t").resolve("0");
  }

  private static void append(Partition p, int from, int to) throws Exception {
    RecordCodec c = new RecordCodec();
    for (int i = from; i < to; i++) {
      Message m = Message.of("m" + i);
      c.encode(m);
      p.append(c, m.timestampMillis());
    }
  }

  /**
   * Reads until no record is there right now; a long stall timeout, so a waiting reader shows as a
   * short read.
   */
  private static List<String> readAll(Partition p) throws Exception {
    PartitionReader r = p.readerFrom(0, TimeUnit.SECONDS.toNanos(60));
    Segment.Frame f = new Segment.Frame();
    List<String> out = new ArrayList<>();
    while (r.next(f) == SegmentReader.FRAME) {
      out.add(
          RecordCodec.decode(f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis)
              .payloadAsString());
    }
    return out;
  }

  private static List<String> payloads(int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add("m" + i);
    }
    return out;
  }

  private Path onlySegment() throws Exception {
    try (var s = Files.list(partitionDir())) {
      return s.filter(f -> f.getFileName().toString().endsWith(".log")).findFirst().orElseThrow();
    }
  }

  @Test
  void anAppendWhoseWriterDiedIsPaddedAtOnceSoReadersDoNotWaitForIt() throws Exception {
    int abandonedAt;
    try (Partition p = Partition.open(partitionDir(), 1 << 20)) {
      append(p, 0, 10);
      abandonedAt =
          p.first().claimAndAbandonForTest(50); // claimed, length published, never committed
      append(p, 10, 12);
      p.first()
          .claimAndAbandonForTest(50); // and one at the very end, whose length is then lost as well
    }
    try (FileChannel ch = FileChannel.open(onlySegment(), StandardOpenOption.WRITE)) {
      long last = lastClaim(onlySegment());
      ch.write(ByteBuffer.allocate(4), last); // the length word of the last claim back to zero
    }
    assertThat(abandonedAt).isPositive();

    Recovery.Report report = Recovery.run(log);
    assertThat(report.claimsPadded()).isEqualTo(2);
    assertThat(report.frames()).isEqualTo(12);
    assertThat(report.corruptFrames()).isZero();

    try (Partition p = Partition.open(partitionDir(), 1 << 20)) {
      assertThat(readAll(p))
          .isEqualTo(payloads(0, 12)); // without the recovery this read would stop at m9
      append(p, 12, 13);
      assertThat(readAll(p)).isEqualTo(payloads(0, 13));
    }
    // The checkpoint moved to the tail: the next recovery scans only the one record appended since.
    Recovery.Report again = Recovery.run(log);
    assertThat(again.frames()).isEqualTo(1);
    assertThat(again.claimsPadded()).isZero();
  }

  @Test
  void aTruncatedSegmentIsExtendedBackAndItsSurvivingRecordsStayReadable() throws Exception {
    try (Partition p = Partition.open(partitionDir(), 1 << 20)) {
      append(p, 0, 1000);
    }
    Path segment = onlySegment();
    long cut = 4096 + 20_000 + 3; // mid-record, not aligned
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(cut);
    }
    Recovery.Report report = Recovery.run(log);
    assertThat(report.segmentsExtended()).isEqualTo(1);
    assertThat(Files.size(segment)).isEqualTo(1 << 20);
    try (Partition p = Partition.open(partitionDir(), 1 << 20)) {
      List<String> survivors = readAll(p);
      assertThat(survivors.size()).isBetween(50, 999);
      assertThat(survivors).isEqualTo(payloads(0, survivors.size()));
      append(p, 5000, 5001); // appends continue after the lost part
      assertThat(readAll(p)).endsWith("m5000").hasSize(survivors.size() + 1);
    }
  }

  @Test
  void aSegmentWithoutAValidHeaderIsAClearErrorNamingTheFile() throws Exception {
    try (Partition p = Partition.open(partitionDir(), 1 << 20)) {
      append(p, 0, 10);
    }
    Path segment = onlySegment();
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {'X', 'X'}), 0);
    }
    assertThatThrownBy(() -> Recovery.run(log))
        .isInstanceOf(CorruptLogException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("bad magic");
  }

  /** The position of the last claimed frame: walks the lengths from the header. */
  private static long lastClaim(Path segment) throws Exception {
    try (Segment s = Segment.open(segment)) {
      int end = Segment.endPosition(s.tail());
      int p = SegmentDescriptor.HEADER_SIZE;
      int last = p;
      while (p < end) {
        last = p;
        p += s.lengthAt(p);
      }
      return last;
    }
  }
}
