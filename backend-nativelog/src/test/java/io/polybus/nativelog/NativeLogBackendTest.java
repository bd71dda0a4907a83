package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The log backend's own rules, beyond the TCK: the directory, restarts, settings. */
@Timeout(60)
class NativeLogBackendTest {
  @TempDir Path dir;

  @Test
  void refusesADirectoryThatHasFilesButIsNotAPolybusLog() throws Exception {
    Files.writeString(dir.resolve("important.txt"), "not ours");
    assertThatThrownBy(() -> Polybus.connect("log:" + dir))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not a Polybus log directory");
    assertThat(dir.resolve("important.txt")).hasContent("not ours");
  }

  @Test
  void refusesAMarkerOfAnUnknownFormat() throws Exception {
    Files.writeString(dir.resolve("polybus-log"), "polybus-log 99\n");
    assertThatThrownBy(() -> Polybus.connect("log:" + dir))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("unknown format");
  }

  @Test
  void explainsBadSettings() {
    assertThatThrownBy(() -> Polybus.connect("log:"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("needs a directory");
    assertThatThrownBy(() -> Polybus.connect("log://host/x"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not a host");
    assertThatThrownBy(() -> Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=1m"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("must fit a segment");
    assertThatThrownBy(() -> Polybus.connect("log:" + dir + "?fsync=sometimes"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("fsync");
  }

  @Test
  void aGroupResumesAfterARestartWithoutRedeliveringWhatItAcked() throws Exception {
    String uri = "log:" + dir + "?partitions=2&segmentSize=2m";
    List<String> first = new CopyOnWriteArrayList<>();
    try (Polybus bus = Polybus.connect(uri)) {
      Subscription s =
          bus.subscribe(
              "t",
              "g",
              d -> first.add(d.message().payloadAsString()),
              SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      for (int i = 0; i < 100; i++) {
        bus.publishAndWait("t", Message.of("k" + (i % 7), "m" + i));
      }
      await(() -> first.size() == 100);
      s.close();
      for (int i = 100; i < 150; i++) {
        bus.publishAndWait("t", Message.of("k" + (i % 7), "m" + i));
      }
    }
    List<String> second = new CopyOnWriteArrayList<>();
    try (Polybus bus = Polybus.connect(uri)) {
      bus.subscribe("t", "g", d -> second.add(d.message().payloadAsString()));
      await(() -> second.size() == 50);
      Thread.sleep(300);
    }
    assertThat(second).hasSize(50).allMatch(p -> Integer.parseInt(p.substring(1)) >= 100);
  }

  @Test
  void everySyncModePublishesAndDelivers() throws Exception {
    for (String mode : List.of("none", "interval&fsyncInterval=50ms", "sync")) {
      Path d = Files.createDirectory(dir.resolve(mode.replaceAll("[^a-z]", "")));
      try (Polybus bus =
          Polybus.connect("log:" + d + "?partitions=1&segmentSize=2m&fsync=" + mode)) {
        List<String> got = new CopyOnWriteArrayList<>();
        bus.subscribe("t", "g", x -> got.add(x.message().payloadAsString()));
        bus.publishAllAndWait("t", List.of(Message.of("a"), Message.of("b")));
        await(() -> got.size() == 2);
        assertThat(got).as(mode).containsExactly("a", "b");
      }
    }
  }

  private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 30 s");
      }
      Thread.sleep(5);
    }
  }
}
