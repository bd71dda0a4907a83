package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention deletes whole old segments; groups behind it continue from the oldest record still
 * there.
 */
@Timeout(90)
class RetentionTest {
  @TempDir Path dir;

  @Test
  void sizeRetentionKeepsTheNewestSegmentsAndAGroupBehindItResumesAtTheOldestRecordLeft()
      throws Exception {
    String uri =
        "log:"
            + dir
            + "?partitions=1&segmentSize=1m&maxPayload=64k&retentionBytes=2m"
            + "&retentionCheckInterval=50ms";
    int n = 40_000; // about 7 MiB of frames: more than a group-state window (16384) of offsets gets
    // deleted
    try (Polybus bus = Polybus.connect(uri)) {
      // The group exists, but nobody reads while retention runs.
      bus.subscribe(
              "t",
              "behind",
              d -> {},
              SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build())
          .close();
      publish(bus, 0, n);
      await(() -> segments() <= 2);
      assertThat(segments()).isEqualTo(2);

      List<Integer> got = new CopyOnWriteArrayList<>();
      bus.subscribe(
          "t",
          "behind",
          d -> got.add(Integer.parseInt(d.message().payloadAsString().substring(1, 7))));
      await(() -> !got.isEmpty() && got.get(got.size() - 1) == n - 1);
      // A contiguous tail: everything from the oldest retained record to the newest, in order,
      // once.
      int first = got.get(0);
      assertThat(first).isGreaterThan(n / 2);
      List<Integer> expected = new ArrayList<>();
      for (int i = first; i < n; i++) {
        expected.add(i);
      }
      Thread.sleep(200);
      assertThat(got).isEqualTo(expected);

      // The group moved past the deleted offsets for good: new records keep flowing, nothing comes
      // back.
      publish(bus, n, n + 10);
      await(() -> got.size() == expected.size() + 10);
    }
  }

  @Test
  void ageRetentionDeletesSegmentsWhoseNewestRecordIsOlderThanTheLimit() throws Exception {
    String uri =
        "log:"
            + dir
            + "?partitions=1&segmentSize=1m&maxPayload=64k&retention=1s"
            + "&retentionCheckInterval=50ms";
    try (Polybus bus = Polybus.connect(uri)) {
      publish(bus, 0, 15_000); // about three segments
      long before = segments();
      assertThat(before).isGreaterThanOrEqualTo(3);
      await(() -> segments() == 1); // the newest one is never deleted
      List<String> got = new CopyOnWriteArrayList<>();
      bus.subscribe(
          "t",
          "late",
          d -> got.add(d.message().payloadAsString()),
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      publish(bus, 15_000, 15_001);
      await(() -> got.contains(payload(15_000)));
      assertThat(got).allMatch(p -> Integer.parseInt(p.substring(1, 7)) > 5_000);
    }
  }

  @Test
  void explainsBadRetentionSettings() {
    assertThatThrownBy(
            () ->
                Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=64k&retentionBytes=1m"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("at least two segments");
    assertThatThrownBy(() -> Polybus.connect("log:" + dir + "?retention=forever"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("retention");
  }

  private static String payload(int i) {
    return String.format("m%06d-%s", i, "x".repeat(90));
  }

  private static void publish(Polybus bus, int from, int to) {
    List<Message> batch = new ArrayList<>();
    for (int i = from; i < to; i++) {
      batch.add(Message.of(payload(i)));
      if (batch.size() == 1000 || i == to - 1) {
        bus.publishAll("t", batch).join();
        batch.clear();
      }
    }
  }

  private long segments() {
    try (Stream<Path> s = Files.list(dir.resolve("topics/t/0"))) {
      return s.filter(p -> p.getFileName().toString().matches("\\d{20}\\.log")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 60 s");
      }
      Thread.sleep(20);
    }
  }
}
