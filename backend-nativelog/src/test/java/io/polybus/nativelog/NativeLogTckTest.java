package io.polybus.nativelog;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.tck.PolybusTck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The whole TCK against {@code log:} in a temporary directory (small segments, so rolling is
 * exercised too).
 */
// The TCK's cases make their own names and mostly wait: they run side by side.
@Execution(ExecutionMode.CONCURRENT)
class NativeLogTckTest implements PolybusTck {
  private static final Path DIR;

  static {
    try {
      DIR = Files.createTempDirectory("polybus-log-tck");
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @AfterAll
  static void deleteDirectory() throws IOException {
    try (Stream<Path> files = Files.walk(DIR)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Override
  public Polybus connect() {
    return Polybus.connect("log:" + DIR + "?partitions=2&segmentSize=2m");
  }

  @Override
  public Capabilities declaredCapabilities() {
    return Capabilities.builder()
        .orderedByKey(true)
        .replay(true)
        .replayFromTimestamp(true)
        .replayFromOffset(true)
        .uncountedGiveBack(true)
        .durable(true)
        .nativeDelayedRetry(true)
        .mayDuplicate(false)
        .lagAccuracy(ConsumerLag.Accuracy.EXACT)
        .maxPayloadBytes(1 << 20)
        .maxHeaders(64)
        .build();
  }
}
