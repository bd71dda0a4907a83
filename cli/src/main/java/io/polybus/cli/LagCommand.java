package io.polybus.cli;

import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code polybus lag TOPIC GROUP}: what the group has not settled yet, from {@link Polybus#lag}
 * (one round trip, never by consuming), per partition where the backend has partitions.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "lag",
    mixinStandardHelpOptions = true,
    description = {
      "Print the messages of TOPIC that GROUP has not settled (acked or dead-lettered) yet,",
      "per partition where the backend has partitions. A group that does not exist lags by 0."
    })
final class LagCommand implements Callable<Integer> {
  @Mixin Connection connection;

  @Parameters(index = "0", paramLabel = "TOPIC")
  String topic;

  @Parameters(index = "1", paramLabel = "GROUP")
  String group;

  @Option(
      names = {"-w", "--watch"},
      description = "Refresh until interrupted (Ctrl-C).")
  boolean watch;

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      defaultValue = "2s",
      converter = Durations.class,
      description = "Refresh period with --watch (default: 2s).")
  Duration interval;

  @Override
  public Integer call() throws InterruptedException {
    if (interval.isNegative() || interval.isZero()) {
      throw new CliException(ExitCode.USAGE, "--interval must be positive");
    }
    try (Polybus bus = connection.connect()) {
      do {
        print(Io.out(), bus.lag(topic, group));
        if (watch) {
          Thread.sleep(interval.toMillis());
        }
      } while (watch);
    }
    return ExitCode.OK;
  }

  static void print(PrintStream out, ConsumerLag lag) {
    StringBuilder line =
        new StringBuilder()
            .append(lag.topic())
            .append(' ')
            .append(lag.group())
            .append(": lag ")
            .append(lag.total())
            .append(" (")
            .append(lag.accuracy())
            .append(", at ")
            .append(lag.measuredAt());
    lag.oldestAge().ifPresent(a -> line.append(", oldest ").append(Durations.human(a)));
    out.println(line.append(')'));
    lag.partitions().entrySet().stream()
        .sorted(Comparator.comparing(e -> partitionOrder(e.getKey())))
        .forEach(e -> out.println("  partition " + e.getKey() + ": " + e.getValue()));
    out.flush();
  }

  // Numeric partitions in numeric order (10 after 9), any other name after them.
  private static String partitionOrder(String p) {
    return p.chars().allMatch(Character::isDigit) ? String.format("%020d", Long.parseLong(p)) : p;
  }
}
