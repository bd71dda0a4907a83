package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class SegmentTest {
  @TempDir Path dir;

  private static List<Message> readAll(Segment s, long stallNanos) throws Exception {
    SegmentReader r = new SegmentReader(s, stallNanos);
    Segment.Frame f = new Segment.Frame();
    List<Message> out = new ArrayList<>();
    int rc;
    while ((rc = r.next(f)) == SegmentReader.FRAME) {
      out.add(
          RecordCodec.decode(f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis));
    }
    return out;
  }

  private static long append(Segment s, Message m) {
    RecordCodec c = new RecordCodec();
    c.encode(m);
    return s.append(c, m.timestampMillis());
  }

  @Test
  void appendsAreReadBackIntactWithConsecutiveOffsets() throws Exception {
    try (Segment s = Segment.createOrOpen(dir, 1000, 1 << 20)) {
      List<Message> sent = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        Message m =
            Message.builder()
                .key(i % 2 == 0 ? "k" + i : null)
                .payload(new byte[] {(byte) i, 0, -1})
                .header("n", Integer.toString(i))
                .header("ü", "日本")
                .build();
        assertThat(append(s, m)).isEqualTo(1000 + i);
        sent.add(m);
      }
      assertThat(readAll(s, TimeUnit.SECONDS.toNanos(1))).isEqualTo(sent);
    }
  }

  @Test
  void aFullSegmentIsSealedAndRefusesFurtherAppends() throws Exception {
    try (Segment s = Segment.createOrOpen(dir, 0, 16384)) {
      int n = 0;
      while (append(s, Message.of(new byte[500])) >= 0) {
        n++;
      }
      assertThat(n).isGreaterThan(10);
      assertThat(Segment.isSealed(s.tail())).isTrue();
      assertThat(append(s, Message.of(new byte[1]))).isEqualTo(-1);
      SegmentReader r = new SegmentReader(s, 1_000_000);
      Segment.Frame f = new Segment.Frame();
      int frames = 0;
      while (r.next(f) == SegmentReader.FRAME) {
        frames++;
      }
      assertThat(frames).isEqualTo(n);
      assertThat(r.next(f)).isEqualTo(SegmentReader.END_OF_SEGMENT);
    }
  }

  @Test
  void concurrentWritersEachGetDistinctOffsetsAndNothingIsLost() throws Exception {
    int threads = 4;
    int perThread = 20_000;
    try (Segment s = Segment.createOrOpen(dir, 0, 64 << 20)) {
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        ts.add(
            new Thread(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    append(s, Message.builder().key("w" + id).payload(id + ":" + i).build());
                  }
                }));
      }
      ts.forEach(Thread::start);
      for (Thread t : ts) {
        t.join();
      }
      List<Message> all = readAll(s, TimeUnit.SECONDS.toNanos(1));
      assertThat(all).hasSize(threads * perThread);
      int[] next = new int[threads];
      for (Message m : all) {
        String[] parts = m.payloadAsString().split(":");
        int w = Integer.parseInt(parts[0]);
        assertThat(Integer.parseInt(parts[1])).isEqualTo(next[w]++); // each writer's order is kept
      }
    }
  }

  @Test
  void aWriterThatDiedMidAppendLeavesAHoleThatReadersSkipAfterTheStallTimeout() throws Exception {
    try (Segment s = Segment.createOrOpen(dir, 0, 1 << 20)) {
      append(s, Message.of("before"));
      s.claimAndAbandonForTest(100);
      append(s, Message.of("after"));
      SegmentReader r = new SegmentReader(s, TimeUnit.MILLISECONDS.toNanos(50));
      Segment.Frame f = new Segment.Frame();
      assertThat(r.next(f)).isEqualTo(SegmentReader.FRAME);
      assertThat(r.next(f))
          .isEqualTo(SegmentReader.NO_DATA); // the writer may still be at work: the clock starts
      assertThat(r.next(f)).isEqualTo(SegmentReader.NO_DATA);
      Thread.sleep(100);
      assertThat(r.next(f)).isEqualTo(SegmentReader.FRAME);
      assertThat(
              RecordCodec.decode(
                      f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis)
                  .payloadAsString())
          .isEqualTo("after");
      // Padded for everyone: a new reader skips it without waiting.
      assertThat(readAll(s, Long.MAX_VALUE))
          .extracting(Message::payloadAsString)
          .containsExactly("before", "after");
    }
  }

  @Test
  void aFrameWithFlippedBytesIsNeverDelivered() throws Exception {
    Path file;
    try (Segment s = Segment.createOrOpen(dir, 0, 1 << 20)) {
      for (int i = 0; i < 10; i++) {
        append(s, Message.of("message-" + i));
      }
      file = s.file;
    }
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      long at = SegmentDescriptor.HEADER_SIZE + 3 * 96 + 50; // somewhere inside an early frame
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x5A)).rewind();
      ch.write(b, at);
    }
    try (Segment s = Segment.open(file)) {
      SegmentReader r = new SegmentReader(s, 1_000_000);
      Segment.Frame f = new Segment.Frame();
      List<String> got = new ArrayList<>();
      while (r.next(f) == SegmentReader.FRAME) {
        got.add(
            RecordCodec.decode(f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis)
                .payloadAsString());
      }
      assertThat(r.corruptFramesSkipped()).isEqualTo(1);
      assertThat(got).hasSize(9).allMatch(p -> p.startsWith("message-"));
    }
  }

  @Test
  void aFileThatIsNotASegmentIsRejectedClearly() throws Exception {
    Path junk = dir.resolve(Segment.fileName(0));
    Files.write(junk, new byte[10000]);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Segment.open(junk))
        .isInstanceOf(CorruptLogException.class)
        .hasMessageContaining("not a Polybus segment");
  }

  @Test
  void twoProcessesAppendingToOneSegmentBothSeeEveryRecordInOrder() throws Exception {
    int perWriter = 20_000;
    try (Segment s = Segment.createOrOpen(dir, 0, 32 << 20)) {
      Process child =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-cp",
                  System.getProperty("java.class.path"),
                  SegmentAppendChild.class.getName(),
                  dir.toString(),
                  Integer.toString(perWriter))
              .redirectErrorStream(true)
              .redirectOutput(new File(dir.toFile(), "child.out"))
              .start();
      for (int i = 0; i < perWriter; i++) {
        append(s, Message.builder().key("parent").payload("parent:" + i).build());
      }
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).as(Files.readString(dir.resolve("child.out"))).isZero();
      List<Message> all = readAll(s, TimeUnit.SECONDS.toNanos(1));
      assertThat(all).hasSize(2 * perWriter);
      BitSet seen = new BitSet();
      int[] next = new int[2];
      for (Message m : all) {
        String[] parts = m.payloadAsString().split(":");
        int w = parts[0].equals("parent") ? 0 : 1;
        assertThat(Integer.parseInt(parts[1])).isEqualTo(next[w]++);
        seen.set(w);
      }
      assertThat(seen.cardinality()).isEqualTo(2);
    }
  }
}
