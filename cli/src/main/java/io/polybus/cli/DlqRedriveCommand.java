package io.polybus.cli;

import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.RedriveResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code polybus dlq redrive DLQ-TOPIC [--id ID...]}: moves dead letters back to their source
 * topics. All of them go through {@link Polybus#redrive}; selected ids through {@link
 * SelectiveRedrive}, built on the public API. {@code --dry-run} only says what would move.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "redrive",
    mixinStandardHelpOptions = true,
    description = {
      "Republish dead letters to their source topic (same id, key, payload and headers, without"
          + " polybus-dlq-*) and remove them from DLQ-TOPIC.",
      "All of them, or only the --id ones (the others stay). Exit 8 if an --id is not there."
    })
final class DlqRedriveCommand implements Callable<Integer> {
  @Mixin Connection connection;

  @Parameters(index = "0", paramLabel = "DLQ-TOPIC")
  String topic;

  @Option(
      names = "--id",
      paramLabel = "ID",
      split = ",",
      description = "Redrive only these ids (repeatable, or comma-separated).")
  List<String> ids = new ArrayList<>();

  @Option(names = "--dry-run", description = "Change nothing; print what would be redriven.")
  boolean dryRun;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "3s",
      converter = Durations.class,
      description = "Stop when no record arrived for this long (default: 3s).")
  Duration timeout;

  @Override
  public Integer call() throws InterruptedException {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new CliException(ExitCode.USAGE, "--timeout must be positive");
    }
    try (Polybus bus = connection.connect()) {
      if (!ids.isEmpty()) {
        return selected(bus);
      }
      if (dryRun) {
        return dryRunAll(bus);
      }
      RedriveResult r = bus.redrive(topic, timeout);
      Io.out()
          .println(
              "redrove "
                  + r.republished()
                  + " dead letter(s) from "
                  + topic
                  + (r.skipped() > 0
                      ? ", skipped " + r.skipped() + " without a source topic"
                      : ""));
      return ExitCode.OK;
    }
  }

  private int dryRunAll(Polybus bus) throws InterruptedException {
    try (DeliveryStream stream = DeadLetters.open(bus, topic)) {
      List<Delivery> all = DeadLetters.read(stream, timeout, Integer.MAX_VALUE, m -> false);
      for (Delivery d : all) {
        Io.out().println("would redrive " + d.message().id() + " -> " + source(d.message()));
      }
      Io.out().println("dry run: would redrive " + all.size() + " dead letter(s) from " + topic);
    }
    return ExitCode.OK;
  }

  private int selected(Polybus bus) throws InterruptedException {
    Set<String> wanted = new LinkedHashSet<>(ids);
    SelectiveRedrive.Result r =
        new SelectiveRedrive(bus, topic, timeout, dryRun, Progress.forTerminal(wanted.size()))
            .run(wanted);
    Io.out()
        .println(
            (dryRun ? "dry run: would redrive " : "redrove ")
                + r.redriven()
                + " of "
                + wanted.size()
                + " selected dead letter(s) from "
                + topic
                + (r.missing().isEmpty() ? "" : "; not found: " + String.join(",", r.missing())));
    return r.missing().isEmpty() ? ExitCode.OK : ExitCode.NOT_FOUND;
  }

  private static String source(Message m) {
    return DeadLetters.header(m, DeadLetterHeaders.SOURCE_TOPIC);
  }
}
