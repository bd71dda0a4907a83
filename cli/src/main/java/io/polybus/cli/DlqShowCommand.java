package io.polybus.cli;

import io.polybus.Delivery;
import io.polybus.Polybus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code polybus dlq show DLQ-TOPIC ID}: one dead letter with all its headers and its payload, read
 * with a peek.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = "Show one dead letter with its headers and payload (a peek); exit 8 if absent.")
final class DlqShowCommand implements Callable<Integer> {
  @Mixin Connection connection;

  @Parameters(index = "0", paramLabel = "DLQ-TOPIC")
  String topic;

  @Parameters(index = "1", paramLabel = "ID", description = "The message id (see dlq list).")
  String id;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "3s",
      converter = Durations.class,
      description = "Give up when no record arrived for this long (default: 3s).")
  Duration timeout;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      defaultValue = "pretty",
      description = "pretty, json or raw (the payload bytes).")
  OutputFormat format;

  @Override
  public Integer call() throws InterruptedException {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new CliException(ExitCode.USAGE, "--timeout must be positive");
    }
    try (Polybus bus = connection.connect();
        DeliveryStream stream = DeadLetters.open(bus, topic)) {
      List<Delivery> read =
          DeadLetters.read(stream, timeout, Integer.MAX_VALUE, m -> m.id().equals(id));
      for (Delivery d : read) {
        if (d.message().id().equals(id)) {
          format.print(Io.out(), d.message(), Map.of());
          return ExitCode.OK;
        }
      }
    }
    throw new CliException(ExitCode.NOT_FOUND, "no dead letter with id " + id + " in " + topic);
  }
}
