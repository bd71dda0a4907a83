package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sparse offset and time index of sealed segments: seeks land where a full scan would, whatever
 * the file says.
 */
@Timeout(60)
class SegmentIndexTest {
  private static final long STALL = TimeUnit.SECONDS.toNanos(1);
  private static final int CAPACITY = 64 * 1024;
  private static final int RECORDS = 6000;

  @TempDir Path dir;

  /** Appends records m0..m5999 stamped with {@code stamps[i]}. */
  private static long[] fill(Partition p, Random random, boolean ordered) throws Exception {
    RecordCodec c = new RecordCodec();
    long[] stamps = new long[RECORDS];
    long t = 1_700_000_000_000L;
    for (int i = 0; i < RECORDS; i++) {
      t += ordered ? random.nextInt(3) : 0;
      stamps[i] = ordered ? t : t + random.nextInt(100_000);
      Message m = Message.builder().payload("m" + i).timestampMillis(stamps[i]).build();
      c.encode(m);
      assertThat(p.append(c, m.timestampMillis())).isEqualTo(i);
    }
    return stamps;
  }

  private static String firstFrom(Partition p, long offset) throws Exception {
    PartitionReader r = p.readerFrom(offset, STALL);
    Segment.Frame f = new Segment.Frame();
    assertThat(r.next(f)).isEqualTo(SegmentReader.FRAME);
    assertThat(f.offset).isEqualTo(offset);
    return RecordCodec.decode(f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis)
        .payloadAsString();
  }

  private static long firstAtOrAfter(long[] stamps, long t) {
    for (int i = 0; i < stamps.length; i++) {
      if (stamps[i] >= t) {
        return i;
      }
    }
    return stamps.length;
  }

  private List<Path> indexFiles() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(f -> f.getFileName().toString().matches("\\d{20}\\.index")).sorted().toList();
    }
  }

  private void checkSeeks(Partition p, long[] stamps, Random random) throws Exception {
    for (int i = 0; i < 300; i++) {
      long offset = random.nextInt(RECORDS);
      assertThat(firstFrom(p, offset)).isEqualTo("m" + offset);
    }
    for (int i = 0; i < 300; i++) {
      long t = stamps[random.nextInt(RECORDS)] + random.nextInt(5) - 2;
      assertThat(p.offsetAt(t, STALL))
          .as("first record at or after %d", t)
          .isEqualTo(firstAtOrAfter(stamps, t));
    }
    assertThat(p.offsetAt(Long.MAX_VALUE, STALL)).isEqualTo(RECORDS);
    assertThat(p.offsetAt(Long.MIN_VALUE, STALL)).isZero();
  }

  @Test
  void seeksByOffsetAndByTimestampLandWhereAScanWouldAndWriteAnIndexPerSealedSegment()
      throws Exception {
    Random random = new Random(1);
    try (Partition p = Partition.open(dir, CAPACITY)) {
      long[] stamps = fill(p, random, true);
      checkSeeks(p, stamps, random);
      long sealed;
      try (Stream<Path> s = Files.list(dir)) {
        sealed = s.filter(f -> f.getFileName().toString().matches("\\d{20}\\.log")).count() - 1;
      }
      assertThat(sealed).isGreaterThan(5);
      assertThat(indexFiles()).hasSize((int) sealed);
    }
  }

  @Test
  void timestampsOutOfOrderStillFindTheFirstRecordAtOrAfterTheInstant() throws Exception {
    Random random = new Random(2);
    try (Partition p = Partition.open(dir, CAPACITY)) {
      checkSeeks(p, fill(p, random, false), random);
    }
  }

  @Test
  void aTruncatedDamagedOrForeignIndexIsRebuiltAndNeverMisleadsASeek() throws Exception {
    Random random = new Random(3);
    long[] stamps;
    try (Partition p = Partition.open(dir, CAPACITY)) {
      stamps = fill(p, random, true);
      checkSeeks(p, stamps, random); // writes the indexes
    }
    List<Path> files = indexFiles();
    for (int i = 0; i < files.size(); i++) {
      try (RandomAccessFile f = new RandomAccessFile(files.get(i).toFile(), "rw")) {
        switch (i % 4) {
          case 0 -> f.setLength(random.nextInt((int) f.length())); // truncated
          case 1 -> { // an entry's bytes flipped
            long at = 64 + random.nextInt((int) f.length() - 64);
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
          }
          case 2 -> f.setLength(0); // empty
          default -> { // another segment's index under this name
            byte[] other = Files.readAllBytes(files.get((i + 1) % files.size()));
            f.setLength(0);
            f.write(other);
          }
        }
      }
    }
    try (Partition p = Partition.open(dir, CAPACITY)) {
      checkSeeks(p, stamps, random);
      for (Path f : indexFiles()) {
        String name = f.getFileName().toString();
        try (Segment s = Segment.open(dir.resolve(name.replace(".index", ".log")))) {
          assertThat(SegmentIndex.load(f, s)).as("rebuilt %s", name).isNotNull();
        }
      }
    }
  }
}
