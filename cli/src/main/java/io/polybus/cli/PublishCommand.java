package io.polybus.cli;

import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import io.polybus.Priority;
import io.polybus.PublishReceipt;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code polybus publish TOPIC [PAYLOAD...]}: publishes messages from the arguments, a file or
 * standard input, one per line (text) or one {@link MessageJson} object per line ({@code --json}),
 * and prints a receipt per message once the broker confirmed it, in input order.
 *
 * <p>The whole input is read and every line checked before anything is sent, so one bad line does
 * not leave half a file published; then at most {@value #WINDOW} publishes are outstanding at once.
 * One instance per invocation; not thread-safe.
 */
@Command(
    name = "publish",
    mixinStandardHelpOptions = true,
    description = {
      "Publish messages to TOPIC: the PAYLOAD arguments, else the lines of --file, else standard"
          + " input.",
      "Prints one receipt per message (topic, position, id) once the broker confirmed it."
    })
final class PublishCommand implements Callable<Integer> {
  private static final int WINDOW = 256;

  @Mixin Connection connection;

  @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to publish to.")
  String topic;

  @Parameters(index = "1..*", paramLabel = "PAYLOAD", description = "One message per argument.")
  List<String> payloads = new ArrayList<>();

  @Option(
      names = "--file",
      paramLabel = "FILE",
      description = "Read messages from FILE, one per line ('-' for standard input).")
  String file;

  @Option(
      names = "--json",
      description =
          "Each line is a JSON object {id?, key?, headers?, timestamp?, payload,"
              + " encoding? (utf-8|base64)}, as consume --format json prints.")
  boolean json;

  @Option(
      names = {"-k", "--key"},
      paramLabel = "KEY",
      description = "Key of every message (a JSON line's key wins).")
  String key;

  @Option(
      names = {"-H", "--header"},
      paramLabel = "NAME=VALUE",
      description = "Header of every message, repeatable (a JSON line's headers win).")
  Map<String, String> headers = new LinkedHashMap<>();

  @Option(
      names = {"-n", "--count"},
      paramLabel = "N",
      description = "Publish N messages in all, cycling through the input (for load).")
  Long count;

  @Option(
      names = "--rate",
      paramLabel = "MSG/S",
      description = "At most this many messages per second.")
  Double rate;

  @Option(
      names = "--deliver-after",
      paramLabel = "DURATION",
      converter = Durations.class,
      description =
          "Deliver no message before DURATION from now (e.g. 30s, 5m); the backend must declare"
              + " maxDeliveryDelay.")
  Duration deliverAfter;

  @Option(
      names = "--priority",
      paramLabel = "LEVEL",
      description =
          "NORMAL (default) or HIGH: HIGH goes to the topic's priority lane, which only"
              + " subscriptions with priority on read.")
  Priority priority = Priority.NORMAL;

  @Option(
      names = {"-q", "--quiet"},
      description = "No receipts; only the final count.")
  boolean quiet;

  private final Deque<CompletableFuture<PublishReceipt>> pending = new ArrayDeque<>();
  private long published;

  /** One instant for the whole input: {@code --deliver-after} from when the command started. */
  private Instant deliverAt;

  @Override
  public Integer call() throws IOException {
    if (count != null && count < 1) {
      throw new CliException(ExitCode.USAGE, "--count must be at least 1, was " + count);
    }
    if (rate != null && !(rate > 0)) {
      throw new CliException(ExitCode.USAGE, "--rate must be positive, was " + rate);
    }
    if (!payloads.isEmpty() && file != null) {
      throw new CliException(ExitCode.USAGE, "give PAYLOAD arguments or --file, not both");
    }
    if (deliverAfter != null && (deliverAfter.isNegative() || deliverAfter.isZero())) {
      throw new CliException(
          ExitCode.USAGE, "--deliver-after must be positive, was " + Durations.human(deliverAfter));
    }
    deliverAt = deliverAfter == null ? null : Instant.now().plus(deliverAfter);
    List<String> lines = readAll();
    if (lines.isEmpty()) {
      throw new CliException(ExitCode.USAGE, "nothing to publish (no PAYLOAD, no input lines)");
    }
    long total = count == null ? lines.size() : count;
    List<Message> messages = new ArrayList<>(lines.size());
    for (int i = 0; i < lines.size(); i++) {
      messages.add(toMessage(lines.get(i), i + 1, true));
    }
    long startNanos = System.nanoTime();
    try (Polybus bus = connection.connect()) {
      for (long i = 0; i < total; i++) {
        pace(startNanos, i);
        int line = (int) (i % messages.size());
        // Each copy is its own message with a new id (ids identify messages, e.g. for dlq show).
        Message m =
            i < messages.size() ? messages.get(line) : toMessage(lines.get(line), line + 1, false);
        pending.add(bus.publish(topic, m));
        while (pending.size() >= WINDOW || (!pending.isEmpty() && pending.peek().isDone())) {
          printHead();
        }
      }
      while (!pending.isEmpty()) {
        printHead();
      }
    }
    Io.out().flush();
    Io.err().println("published " + published + " message(s) to " + topic);
    return ExitCode.OK;
  }

  private void printHead() {
    PublishReceipt r = pending.poll().join();
    published++;
    if (!quiet) {
      Io.out().println(r.topic() + "\t" + r.position() + "\t" + r.messageId());
    }
  }

  private void pace(long startNanos, long i) {
    if (rate == null) {
      return;
    }
    long due = startNanos + (long) (i * 1e9 / rate);
    long wait;
    while ((wait = due - System.nanoTime()) > 0) {
      LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
    }
  }

  /**
   * The message for one input line; {@code keepId} false for the copies {@code --count} makes. The
   * library's own checks (id, header names, sizes) become a {@link ExitCode#BAD_MESSAGE} naming the
   * line.
   */
  private Message toMessage(String line, long number, boolean keepId) {
    try {
      Message.Builder b = Message.builder().key(key).priority(priority).deliverAt(deliverAt);
      headers.forEach(b::header);
      if (json) {
        MessageJson.Parsed parsed = MessageJson.parse(line, number);
        b.payload(parsed.payload());
        if (parsed.key() != null) {
          b.key(parsed.key());
        }
        parsed.headers().forEach(b::header);
        if (parsed.id() != null && keepId) {
          b.id(parsed.id());
        }
        if (parsed.timestamp() != null) {
          b.timestamp(parsed.timestamp());
        }
      } else {
        b.payload(line.getBytes(StandardCharsets.UTF_8));
      }
      return b.build();
    } catch (IllegalArgumentException | PayloadTooLargeException e) {
      throw new CliException(ExitCode.BAD_MESSAGE, "input line " + number + ": " + e.getMessage());
    }
  }

  private List<String> readAll() throws IOException {
    if (!payloads.isEmpty()) {
      return payloads;
    }
    BufferedReader reader;
    if (file == null || file.equals("-")) {
      reader = new BufferedReader(new InputStreamReader(Io.in(), StandardCharsets.UTF_8));
    } else {
      Path p = Path.of(file);
      if (!Files.isReadable(p)) {
        throw new CliException(ExitCode.USAGE, "cannot read --file " + file);
      }
      reader = Files.newBufferedReader(p, StandardCharsets.UTF_8);
    }
    try (reader) {
      List<String> lines = new ArrayList<>();
      for (String l = reader.readLine(); l != null; l = reader.readLine()) {
        if (!(json && l.isBlank())) {
          lines.add(l);
        }
      }
      return lines;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
