package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage done to copies of a real log: random byte flips and truncations. Whatever is damaged,
 * opening the copy either works or fails with an error naming the damaged file, and no message is
 * ever delivered that was not published.
 */
@Timeout(180)
class CorruptionTest {
  private static final int MESSAGES = 3000;

  @TempDir Path tmp;
  private Path original;
  private final Map<String, Message> published = new HashMap<>();

  @BeforeEach
  void writeAnOriginal() {
    original = tmp.resolve("original");
    try (Polybus bus =
        Polybus.connect("log:" + original + "?partitions=2&segmentSize=1m&maxPayload=64k")) {
      List<Message> batch = new ArrayList<>();
      for (int i = 0; i < MESSAGES; i++) {
        batch.add(
            Message.builder()
                .key("k" + i % 10)
                .payload("payload-" + i + "-" + "x".repeat(i % 200))
                .header("n", Integer.toString(i))
                .header("kind", "original")
                .build());
        if (batch.size() == 500) {
          List<PublishReceipt> receipts = bus.publishAllAndWait("t", batch);
          assertThat(receipts).hasSize(batch.size());
          batch.forEach(m -> published.put(m.id(), m));
          batch.clear();
        }
      }
    }
  }

  @Test
  void byteFlipsInRecordsLoseOnlyTheDamagedRecordsAndDeliverNothingBogus() throws Exception {
    Random random = new Random(7);
    for (int round = 0; round < 8; round++) {
      Path copy = copyOriginal("flip-" + round);
      List<Path> segments = segments(copy);
      Path victim = segments.get(random.nextInt(segments.size()));
      int flips = 1 + random.nextInt(8);
      try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
        long end = dataEnd(f);
        for (int i = 0; i < flips; i++) {
          long at = 4096 + (long) (random.nextDouble() * (end - 4096));
          f.seek(at);
          int b = f.read();
          f.seek(at);
          f.write(b ^ (1 + random.nextInt(255)));
        }
      }
      Map<String, Message> got = readEverything(copy);
      assertThat(got.size())
          .as("round %d: %d flips in %s", round, flips, victim)
          .isBetween(MESSAGES - 4 * flips, MESSAGES);
    }
  }

  @Test
  void damageToSegmentHeadersOrLengthsIsRecoveredOrRefusedByName() throws Exception {
    Random random = new Random(11);
    for (int round = 0; round < 8; round++) {
      Path copy = copyOriginal("cut-" + round);
      List<Path> segments = segments(copy);
      Path victim = segments.get(random.nextInt(segments.size()));
      try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
        if (round % 2 == 0) {
          f.setLength(
              (long) (random.nextDouble() * f.length())); // truncated, maybe inside the header
        } else {
          long at = random.nextInt(128); // the header's magic, base offset, capacity, tail...
          f.seek(at);
          int b = f.read();
          f.seek(at);
          f.write(b ^ (1 + random.nextInt(255)));
        }
      }
      try {
        Map<String, Message> got = readEverything(copy);
        assertThat(got.size()).as("round %d, %s", round, victim).isLessThanOrEqualTo(MESSAGES);
      } catch (RuntimeException e) {
        assertThat(e).as("round %d", round).hasMessageContaining(victim.getFileName().toString());
      }
    }
  }

  /** Reads the whole topic with a new group; checks each message against what was published. */
  private Map<String, Message> readEverything(Path copy) throws InterruptedException {
    Map<String, Message> got = new ConcurrentHashMap<>();
    Set<String> bogus = ConcurrentHashMap.newKeySet();
    try (Polybus bus = Polybus.connect("log:" + copy + "?maxPayload=64k&stallTimeout=200ms")) {
      bus.subscribe(
          "t",
          "check",
          d -> {
            Message m = d.message();
            Message p = published.get(m.id());
            if (p == null
                || !p.payloadAsString().equals(m.payloadAsString())
                || !p.headers().equals(m.headers())
                || !p.key().equals(m.key())
                || got.putIfAbsent(m.id(), m) != null) {
              bogus.add(m.id() + " " + m);
            }
          },
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).ordering(Ordering.NONE).build());
      int last = -1;
      while (got.size() != last) { // until nothing new for a while
        last = got.size();
        Thread.sleep(700);
      }
    }
    assertThat(bogus).isEmpty();
    return got;
  }

  private Path copyOriginal(String name) throws IOException {
    Path copy = tmp.resolve(name);
    try (Stream<Path> files = Files.walk(original)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path to = copy.resolve(original.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    return copy;
  }

  private static List<Path> segments(Path log) throws IOException {
    try (Stream<Path> files = Files.walk(log.resolve("topics"))) {
      return files
          .filter(f -> f.getFileName().toString().matches("\\d{20}\\.log"))
          .sorted()
          .toList();
    }
  }

  /**
   * Where the segment's frames end: the position half of its tail word, at byte 64 of the header.
   */
  private static long dataEnd(RandomAccessFile f) throws IOException {
    f.seek(64);
    int b0 = f.read();
    int b1 = f.read();
    int b2 = f.read();
    int b3 = f.read();
    return b0 | b1 << 8 | b2 << 16 | (long) b3 << 24;
  }
}
