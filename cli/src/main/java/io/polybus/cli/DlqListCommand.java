package io.polybus.cli;

import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
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
 * {@code polybus dlq list DLQ-TOPIC}: one line per dead letter (id, source topic, attempts,
 * failed-at, reason), read with a peek: every record stays on the topic.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List dead letters: id, source topic, attempts, failed-at, reason (a peek).")
final class DlqListCommand implements Callable<Integer> {
  @Mixin Connection connection;

  @Parameters(index = "0", paramLabel = "DLQ-TOPIC")
  String topic;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "3s",
      converter = Durations.class,
      description = "Stop when no record arrived for this long (default: 3s).")
  Duration timeout;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "1000",
      description = "List at most N (default: 1000).")
  int limit;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      defaultValue = "pretty",
      description = "pretty (a table) or json (each record, one object per line).")
  OutputFormat format;

  @Override
  public Integer call() throws InterruptedException {
    if (timeout.isNegative() || timeout.isZero() || limit < 1) {
      throw new CliException(ExitCode.USAGE, "--timeout and --limit must be positive");
    }
    try (Polybus bus = connection.connect();
        DeliveryStream stream = DeadLetters.open(bus, topic)) {
      List<Delivery> all = DeadLetters.read(stream, timeout, limit, m -> false);
      if (format == OutputFormat.PRETTY) {
        Io.out()
            .printf(
                "%-26s  %-20s %-8s %-30s  %s%n", "ID", "SOURCE", "ATTEMPTS", "FAILED-AT", "REASON");
      }
      for (Delivery d : all) {
        Message m = d.message();
        if (format == OutputFormat.PRETTY) {
          Io.out()
              .printf(
                  "%-26s  %-20s %-8s %-30s  %s%n",
                  m.id(),
                  DeadLetters.header(m, DeadLetterHeaders.SOURCE_TOPIC),
                  DeadLetters.header(m, DeadLetterHeaders.ATTEMPTS),
                  DeadLetters.header(m, DeadLetterHeaders.FAILED_AT),
                  DeadLetters.header(m, DeadLetterHeaders.REASON));
        } else {
          format.print(Io.out(), m, Map.of());
        }
      }
      Io.out().flush();
      Io.err().println(all.size() + " dead letter(s) in " + topic);
    }
    return ExitCode.OK;
  }
}
