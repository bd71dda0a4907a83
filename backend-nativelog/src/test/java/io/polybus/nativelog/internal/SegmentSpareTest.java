package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The next segment of a partition is prepared in the background and a roll installs it. */
@Timeout(120)
class SegmentSpareTest {
  private static final int CAPACITY = 65536;

  @TempDir Path dir;

  private List<Path> spares() throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith(".spare-")).toList();
    }
  }

  private List<Path> segments() throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.getFileName().toString().matches("\\d{20}\\.log"))
          .sorted()
          .toList();
    }
  }

  @Test
  void aHalfFullSegmentGetsASpareThatTheRollTurnsIntoTheNextSegment() throws Exception {
    try (Partition p = Partition.open(dir, CAPACITY)) {
      RecordCodec c = new RecordCodec();
      long offset = 0;
      c.encode(Message.of("first half"));
      int frame = SegmentDescriptor.align(SegmentDescriptor.FRAME_HEADER + c.length());
      int half = (CAPACITY / 2) / frame + 1;
      for (int i = 0; i < half; i++) {
        assertThat(p.append(c, 1L)).isEqualTo(offset++);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      // The spare appears under its name at once and is zero-filled to its capacity in the
      // background.
      while ((spares().isEmpty() || Files.size(spares().get(0)) < CAPACITY)
          && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      List<Path> spare = spares();
      assertThat(spare).hasSize(1);
      assertThat(Files.size(spare.get(0))).isEqualTo(CAPACITY);
      Object spareInode = Files.getAttribute(spare.get(0), "unix:ino");
      while (segments().size() < 2) {
        assertThat(p.append(c, 1L)).isEqualTo(offset++);
      }
      // The spare file itself became the second segment: same inode, new name, spare name gone.
      assertThat(Files.getAttribute(segments().get(1), "unix:ino")).isEqualTo(spareInode);
      assertThat(spares()).doesNotContain(spare.get(0));
      PartitionReader r = p.readerFrom(0, TimeUnit.SECONDS.toNanos(1));
      Segment.Frame f = new Segment.Frame();
      long expected = 0;
      while (r.next(f) == SegmentReader.FRAME) {
        assertThat(f.offset).isEqualTo(expected++);
      }
      assertThat(expected).isEqualTo(offset);
    }
  }

  @Test
  void aSpareLeftByADeadProcessIsDeletedAndNoSpareOutlivesDiscard() throws Exception {
    Path orphan = dir.resolve(".spare-of-a-dead-process.log");
    Files.write(orphan, new byte[CAPACITY]); // nobody holds its lock
    try (Partition p = Partition.open(dir, CAPACITY)) {
      RecordCodec c = new RecordCodec();
      c.encode(Message.of("x"));
      while (segments().size() < 3) {
        p.append(c, 1L);
      }
      assertThat(orphan).doesNotExist();
      assertThat(spares().size()).isLessThanOrEqualTo(1);
      Segment.discardSpare(dir);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!spares().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(spares()).isEmpty();
    }
  }

  @Test
  void aRollWhoseSpareWasDeletedUnderItMakesAFreshOne() throws Exception {
    try (Partition p = Partition.open(dir, CAPACITY)) {
      RecordCodec c = new RecordCodec();
      c.encode(Message.of("y"));
      long offset = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (spares().isEmpty() && System.nanoTime() < deadline) {
        assertThat(p.append(c, 1L)).isEqualTo(offset++);
        if (segments().size() > 1) {
          throw new AssertionError("rolled before a spare appeared");
        }
        Thread.sleep(1);
      }
      Files.delete(spares().get(0)); // as another process would that mistook it for an orphan
      while (segments().size() < 2) {
        assertThat(p.append(c, 1L)).isEqualTo(offset++);
      }
      assertThat(p.endOffset()).isEqualTo(offset);
    }
  }

  @Test
  void concurrentWritersAcrossManyRollsKeepEveryRecordOnceAndInOrder() throws Exception {
    int threads = 4;
    int perThread = 5000;
    try (Partition p = Partition.open(dir, CAPACITY)) {
      List<Thread> writers = new ArrayList<>();
      List<Throwable> errors = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread w =
            new Thread(
                () -> {
                  RecordCodec c = new RecordCodec();
                  try {
                    for (int i = 0; i < perThread; i++) {
                      c.encode(Message.of(id + ":" + i));
                      p.append(c, 1L);
                    }
                  } catch (Throwable e) {
                    synchronized (errors) {
                      errors.add(e);
                    }
                  }
                });
        writers.add(w);
        w.start();
      }
      for (Thread w : writers) {
        w.join();
      }
      assertThat(errors).isEmpty();
      assertThat(segments().size()).isGreaterThan(20);
      PartitionReader r = p.readerFrom(0, TimeUnit.SECONDS.toNanos(1));
      Segment.Frame f = new Segment.Frame();
      Map<Integer, Integer> next = new HashMap<>();
      long expected = 0;
      while (r.next(f) == SegmentReader.FRAME) {
        assertThat(f.offset).isEqualTo(expected++);
        String[] s =
            RecordCodec.decode(f.bytes, Segment.Frame.bodyStart(), f.bodyLength, f.timestampMillis)
                .payloadAsString()
                .split(":");
        int writer = Integer.parseInt(s[0]);
        assertThat(Integer.parseInt(s[1])).isEqualTo(next.getOrDefault(writer, 0));
        next.put(writer, Integer.parseInt(s[1]) + 1);
      }
      assertThat(expected).isEqualTo((long) threads * perThread);
    }
  }
}
