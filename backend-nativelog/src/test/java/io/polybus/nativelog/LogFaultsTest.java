package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.polybus.ConfigurationException;
import io.polybus.Message;
import io.polybus.NonTransientPolybusException;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files of the log that cannot be used as they are: refused with an error naming the file,
 * non-transient (retrying does not help until someone fixes the file), and health down.
 */
@Timeout(60)
class LogFaultsTest {
  @TempDir Path tmp;

  private Backend open(Path dir) {
    return new NativeLogBackendProvider()
        .open(
            PolybusOptions.parse(
                "log:" + dir + "?partitions=1&segmentSize=1m" + "&maxPayload=64k"));
  }

  private static ConsumerSpec spec(String topic) {
    return new ConsumerSpec(
        topic, "g", Ordering.NONE, StartFrom.EARLIEST, Duration.ofSeconds(30), 100);
  }

  @Test
  void aTopicDirectoryThatIsASymlinkOutOfTheLogIsRefusedAndNothingIsWrittenThere()
      throws Exception {
    Path dir = tmp.resolve("log");
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    try (Backend b = open(dir)) {
      Files.createSymbolicLink(dir.resolve("topics").resolve("evil"), outside);
      assertThatThrownBy(() -> b.publish("evil", List.of(Message.of("x"))).join())
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("evil")
          .hasMessageContaining("outside the log directory");
      assertThatThrownBy(() -> b.subscribe(spec("evil")))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("outside the log directory");
    }
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void aPartitionDirectoryThatIsASymlinkOutOfTheLogIsRefused() throws Exception {
    Path dir = tmp.resolve("log");
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    try (Backend b = open(dir)) {
      Files.createDirectories(dir.resolve("topics").resolve("t"));
      Files.createSymbolicLink(dir.resolve("topics").resolve("t").resolve("0"), outside);
      assertThatThrownBy(() -> b.publish("t", List.of(Message.of("x"))).join())
          .cause()
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("outside the log directory");
    }
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void aSymlinkWithinTheLogDirectoryIsFine() throws Exception {
    Path dir = tmp.resolve("log");
    try (Backend b = open(dir)) {
      Path real = Files.createDirectories(dir.resolve("topics").resolve("real"));
      Files.createSymbolicLink(dir.resolve("topics").resolve("alias"), real);
      assertThat(b.publish("alias", List.of(Message.of("x"))).join()).hasSize(1);
    }
  }

  @Test
  void aCorruptGroupStateFailsSubscribeAndPollNamingTheFileAndTakesHealthDown() throws Exception {
    Path dir = tmp.resolve("log");
    Path state = dir.resolve("topics/t/groups/g/p0.state");
    try (Backend b = open(dir)) {
      b.subscribe(spec("t")).close();
      assertThat(b.health().up()).isTrue();
      BackendConsumer c = b.subscribe(spec("t"));
      spoil(state);
      // The member opens the state when it takes the partition, at its first poll.
      assertThatThrownBy(() -> c.poll(10, Duration.ofMillis(100)))
          .isInstanceOf(NonTransientPolybusException.class)
          .hasMessageContaining(state.toString());
      c.close();
      assertThat(b.health().up()).isFalse();
      assertThat(b.health().detail()).contains(state.toString());
      assertThatThrownBy(() -> b.subscribe(spec("t")))
          .isInstanceOf(NonTransientPolybusException.class)
          .hasMessageContaining(state.toString());
    }
  }

  @Test
  void anImmutableGroupStateFailsSubscribeNamingTheFileAndTakesHealthDown() throws Exception {
    Path dir = tmp.resolve("log");
    Path state = dir.resolve("topics/t/groups/g/p0.state");
    try (Backend b = open(dir)) {
      b.subscribe(spec("t")).close();
      assumeTrue(chattr("+i", state), "chattr +i is not available here");
      try {
        assertThatThrownBy(() -> b.subscribe(spec("t")))
            .isInstanceOf(NonTransientPolybusException.class)
            .hasMessageContaining(state.toString());
        assertThat(b.health().up()).isFalse();
        assertThat(b.health().detail()).contains(state.toString());
      } finally {
        chattr("-i", state);
      }
      // Fixed: usable again, health up again.
      b.subscribe(spec("t")).close();
      assertThat(b.health().up()).isTrue();
    }
  }

  private static void spoil(Path file) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.writeLong(0x0123456789abcdefL); // the magic
    }
  }

  private static boolean chattr(String flag, Path file) {
    try {
      Process p =
          new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0
          && (!flag.startsWith("+") || !Files.isWritable(file) || cannotOpenForWrite(file));
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean cannotOpenForWrite(Path file) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      return false;
    } catch (Exception e) {
      return true;
    }
  }
}
