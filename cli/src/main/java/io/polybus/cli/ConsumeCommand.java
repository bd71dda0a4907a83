package io.polybus.cli;

import io.polybus.Delivery;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code polybus consume TOPIC --group G}: prints messages as a member of the group, acking each
 * after it is printed (at least once: a crash between the two prints it again), or with {@code
 * --peek} gives each back.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "consume",
    mixinStandardHelpOptions = true,
    description = {
      "Print messages of TOPIC as a member of GROUP, acking each once printed.",
      "With --peek nothing is settled: messages go back to the group when the command ends."
    })
final class ConsumeCommand implements Callable<Integer> {
  @Mixin Connection connection;

  @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to read.")
  String topic;

  @Option(
      names = {"-g", "--group"},
      required = true,
      paramLabel = "GROUP",
      description = "Consumer group (created on first use).")
  String group;

  @Option(
      names = "--from",
      paramLabel = "WHERE",
      defaultValue = "latest",
      description =
          "Where a NEW group starts: earliest, latest, an ISO-8601 instant or an offset"
              + " (default: ${DEFAULT-VALUE}). An existing group resumes where it left off.")
  String from;

  @Option(
      names = {"-n", "--count"},
      paramLabel = "N",
      description = "Stop after N messages (exit 1 if fewer arrive before the timeout).")
  Integer count;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "5s",
      converter = Durations.class,
      description = "Stop when no message arrived for this long; 0 waits for ever (default: 5s).")
  Duration timeout;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      defaultValue = "pretty",
      description = "pretty, json (one object per line) or raw (payload bytes) (default: pretty).")
  OutputFormat format;

  @Option(
      names = "--peek",
      description = "Settle nothing: each message is given back to the group (see docs/cli.md).")
  boolean peek;

  @Override
  public Integer call() throws InterruptedException {
    if (count != null && count < 1) {
      throw new CliException(ExitCode.USAGE, "--count must be at least 1, was " + count);
    }
    if (timeout.isNegative()) {
      throw new CliException(ExitCode.USAGE, "--timeout must not be negative");
    }
    StartFrom start = StartPosition.parse(from);
    int seen = 0;
    try (Polybus bus = connection.connect()) {
      StartPosition.check(start, bus.capabilities(), bus.options().scheme());
      int window = count == null ? 1024 : Math.min(count, 1024);
      try (DeliveryStream stream = new DeliveryStream(bus, topic, group, start, window)) {
        while (count == null || seen < count) {
          Delivery d = stream.next(timeout);
          if (d == null) {
            break;
          }
          format.print(Io.out(), d);
          seen++;
          if (!peek) {
            d.ack();
          }
        }
      }
    }
    if (count != null && seen < count) {
      Io.err()
          .println(
              "polybus: "
                  + seen
                  + " of "
                  + count
                  + " messages arrived before the timeout ("
                  + timeout
                  + " without a message)");
      return ExitCode.INCOMPLETE;
    }
    return ExitCode.OK;
  }
}
