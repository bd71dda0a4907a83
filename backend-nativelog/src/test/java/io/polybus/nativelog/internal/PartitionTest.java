package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class PartitionTest {
  @TempDir Path dir;

  private static long append(Partition p, RecordCodec c, Message m) throws Exception {
    c.encode(m);
    return p.append(c, m.timestampMillis());
  }

  private static List<String> readFrom(Partition p, long offset) throws Exception {
    PartitionReader r = p.readerFrom(offset, TimeUnit.SECONDS.toNanos(1));
    Segment.Frame f = new Segment.Frame();
    List<String> out = new ArrayList<>();
    while (r.next(f) == SegmentReader.FRAME) {
      out.add(
          RecordCodec.decode(f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis)
              .payloadAsString());
    }
    return out;
  }

  @Test
  void appendsRollOverSegmentsWithContinuousOffsets() throws Exception {
    try (Partition p = Partition.open(dir, 16384)) {
      RecordCodec c = new RecordCodec();
      for (int i = 0; i < 500; i++) {
        assertThat(append(p, c, Message.of("m" + i))).isEqualTo(i);
      }
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.filter(f -> f.toString().endsWith(".log")).count()).isGreaterThan(3);
      }
      assertThat(p.endOffset()).isEqualTo(500);
      List<String> all = readFrom(p, 0);
      assertThat(all).hasSize(500).startsWith("m0", "m1").endsWith("m499");
      assertThat(readFrom(p, 321)).hasSize(179).startsWith("m321");
    }
  }

  @Test
  void reopeningFindsEverySegmentAndContinuesTheOffsets() throws Exception {
    RecordCodec c = new RecordCodec();
    try (Partition p = Partition.open(dir, 16384)) {
      for (int i = 0; i < 300; i++) {
        append(p, c, Message.of("a" + i));
      }
    }
    try (Partition p = Partition.open(dir, 16384)) {
      assertThat(append(p, c, Message.of("b"))).isEqualTo(300);
      assertThat(readFrom(p, 0)).hasSize(301).endsWith("b");
    }
  }

  @Test
  void aReaderFollowsAWriterAcrossSegmentBoundaries() throws Exception {
    try (Partition p = Partition.open(dir, 16384)) {
      RecordCodec c = new RecordCodec();
      PartitionReader r = p.readerFrom(0, TimeUnit.SECONDS.toNanos(1));
      Segment.Frame f = new Segment.Frame();
      long expected = 0;
      for (int i = 0; i < 1000; i++) {
        append(p, c, Message.of("x" + i));
        assertThat(r.next(f)).isEqualTo(SegmentReader.FRAME);
        assertThat(f.offset).isEqualTo(expected++);
        assertThat(r.next(f)).isEqualTo(SegmentReader.NO_DATA);
      }
    }
  }
}
