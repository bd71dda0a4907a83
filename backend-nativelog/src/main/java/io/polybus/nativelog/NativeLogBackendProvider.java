package io.polybus.nativelog;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.nativelog.internal.LogRetention;
import io.polybus.nativelog.internal.NativeLogBackend;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Serves {@code log:} URIs: Polybus's own embedded log in a local directory, shared by every
 * process on the host that opens the same directory.
 *
 * <p>URI: {@code
 * log:<directory>[?partitions=4&segmentSize=16m&maxPayload=1m&fsync=none|interval|sync
 * &fsyncInterval=1s&stallTimeout=2s&retention=7d&retentionBytes=10g
 * &retentionCheckInterval=30s&wait=block|spin]}; see {@code docs/uris.md}. Thread-safe and
 * stateless.
 */
public final class NativeLogBackendProvider implements BackendProvider {
  private static final Duration MILLI = Duration.ofMillis(1);
  private static final Duration DAY = Duration.ofDays(1);
  private static final Duration CENTURY = Duration.ofDays(36500);

  // Durations bounded so that the conversions in open (toMillis, toNanos) cannot overflow, and a
  // millisecond
  // schedule is never asked for a period of 0.
  static final Parameter<Integer> PARTITIONS =
      Parameter.intValue(
          "partitions", 4, 1, 1024, "partitions of a topic this bus creates, fixed at creation");
  static final Parameter<Long> SEGMENT_SIZE =
      Parameter.bytes(
          "segmentSize", 16L << 20, 1L << 20, 1L << 30, "bytes preallocated per segment file");
  static final Parameter<Long> MAX_PAYLOAD =
      Parameter.bytes(
          "maxPayload",
          1L << 20,
          1,
          256L << 20,
          "the largest payload accepted; plus 128 KiB it must fit a segment");
  static final Parameter<String> FSYNC =
      Parameter.choice(
          "fsync", "none", "when appends are forced to disk", "none", "interval", "sync");
  static final Parameter<Duration> FSYNC_INTERVAL =
      Parameter.duration(
          "fsyncInterval", Duration.ofSeconds(1), MILLI, DAY, "how often fsync=interval forces");
  static final Parameter<Duration> STALL_TIMEOUT =
      Parameter.duration(
          "stallTimeout",
          Duration.ofSeconds(2),
          MILLI,
          DAY,
          "how long a reader waits for a claimed frame before skipping it as a dead writer's hole");
  static final Parameter<Duration> RETENTION =
      Parameter.duration(
              "retention",
              Duration.ZERO,
              Duration.ZERO,
              CENTURY,
              "delete whole segments whose newest record is older; 0 keeps everything")
          .defaultShownAs("keep");
  static final Parameter<Long> RETENTION_BYTES =
      Parameter.bytes(
              "retentionBytes",
              0,
              0,
              Long.MAX_VALUE,
              "bytes kept per partition, at least two segments; 0 is no limit")
          .defaultShownAs("no limit");
  static final Parameter<Duration> RETENTION_CHECK_INTERVAL =
      Parameter.duration(
          "retentionCheckInterval",
          Duration.ofSeconds(30),
          MILLI,
          DAY,
          "how often retention is applied");
  static final Parameter<String> WAIT =
      Parameter.choice(
          "wait",
          "block",
          "how an idle consumer waits: park, or busy-spin on the tails",
          "block",
          "spin");
  static final List<Parameter<?>> PARAMETERS =
      List.of(
          PARTITIONS,
          SEGMENT_SIZE,
          MAX_PAYLOAD,
          FSYNC,
          FSYNC_INTERVAL,
          STALL_TIMEOUT,
          RETENTION,
          RETENTION_BYTES,
          RETENTION_CHECK_INTERVAL,
          WAIT);

  @Override
  public Set<String> schemes() {
    return Set.of("log");
  }

  @Override
  public String description() {
    return "embedded log in a local directory, shared by the processes of one host";
  }

  @Override
  public List<Parameter<?>> parameters() {
    return PARAMETERS;
  }

  @Override
  public Backend open(PolybusOptions options) {
    if (!options.hosts().isEmpty() || options.user() != null) {
      throw new ConfigurationException(
          "the log backend takes a directory, not a host: use 'log:./data' or"
              + " 'log:/var/lib/app/events', got '"
              + options.redacted()
              + "'");
    }
    if (options.path().isEmpty()) {
      throw new ConfigurationException(
          "the log backend needs a directory: 'log:<directory>', for example"
              + " 'log:./polybus-data', got '"
              + options.redacted()
              + "'");
    }
    Parameters p = Parameters.of(options, PARAMETERS);
    // The log has no native client to hand them to: silently ignoring polybus.log.partitions=8
    // would leave the
    // caller believing topics get 8 partitions.
    p.rejectNativeSettings();
    int partitions = p.get(PARTITIONS);
    long segment = p.get(SEGMENT_SIZE);
    long maxPayload = p.get(MAX_PAYLOAD);
    String fsync = p.get(FSYNC);
    Duration interval = p.get(FSYNC_INTERVAL);
    Duration stall = p.get(STALL_TIMEOUT);
    Duration retention = p.get(RETENTION); // 0: keep everything
    long retentionBytes = p.get(RETENTION_BYTES);
    Duration retentionCheck = p.get(RETENTION_CHECK_INTERVAL);
    String wait = p.get(WAIT);
    p.requireAllRead();
    if (retentionBytes != 0 && retentionBytes < 2 * segment) {
      throw new ConfigurationException(
          "retentionBytes ("
              + retentionBytes
              + ") must be at least two segments ("
              + 2 * segment
              + " bytes): the newest segment is never deleted, in '"
              + options.redacted()
              + "'");
    }
    if (maxPayload + (128 << 10) > segment - 8192) {
      throw new ConfigurationException(
          "maxPayload ("
              + maxPayload
              + " bytes) plus 128 KiB for id, key and headers"
              + " must fit a segment (segmentSize "
              + segment
              + " bytes) in '"
              + options.redacted()
              + "'");
    }
    Path dir;
    try {
      dir = Path.of(options.path());
    } catch (InvalidPathException e) {
      throw new ConfigurationException(
          "invalid directory in '" + options.redacted() + "': " + e.getMessage(), e);
    }
    try {
      return new NativeLogBackend(
          dir,
          partitions,
          (int) (segment & ~7L),
          (int) maxPayload,
          NativeLogBackend.Fsync.valueOf(fsync.toUpperCase(Locale.ROOT)),
          interval.toMillis(),
          stall.toNanos(),
          new LogRetention(retention.toMillis(), retentionBytes, retentionCheck.toMillis()),
          NativeLogBackend.Wait.valueOf(wait.toUpperCase(Locale.ROOT)));
    } catch (IOException e) {
      throw new ConfigurationException("cannot open the log directory '" + dir + "': " + e, e);
    }
  }
}
