package io.polybus.benchmarks;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.nativelog.internal.LogRetention;
import io.polybus.nativelog.internal.NativeLogBackend;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark-only scheme {@code log-spin:<directory>[?partitions=4]}: the {@code log:} backend with its consumers
 * busy-spinning ({@link NativeLogBackend.Wait#SPIN}) and otherwise the {@code log:} defaults (16 MiB segments, 1 MiB
 * payloads, page-cache durability). It exists only on the benchmarks' class path, until {@code log:} itself takes a
 * {@code wait=spin} parameter. Stateless and thread-safe.
 */
public final class SpinLogProvider implements BackendProvider {
  @Override
  public Set<String> schemes() {
    return Set.of("log-spin");
  }

  @Override
  public String description() {
    return "benchmarks only: the embedded log with busy-spinning consumers";
  }

  @Override
  public Backend open(PolybusOptions options) {
    if (options.path().isEmpty()) {
      throw new ConfigurationException("log-spin: needs a directory, got '" + options.redacted() + "'");
    }
    Parameters p = Parameters.of(options);
    int partitions = p.intValue("partitions", 4, 1, 1024);
    p.requireAllRead();
    try {
      return new NativeLogBackend(Path.of(options.path()), partitions, 16 << 20, 1 << 20, NativeLogBackend.Fsync.NONE,
          1000, TimeUnit.SECONDS.toNanos(2), LogRetention.FOREVER, NativeLogBackend.Wait.SPIN);
    } catch (IOException e) {
      throw new ConfigurationException("cannot open the log directory '" + options.path() + "': " + e, e);
    }
  }
}
