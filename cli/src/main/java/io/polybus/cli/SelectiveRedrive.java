package io.polybus.cli;

import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Polybus;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Redrives chosen dead letters with nothing but the public API, as {@link Polybus#redrive} does for
 * all of them: read the dead-letter topic as group {@code dlq}; for each wanted id, publish the
 * original (without {@code polybus-dlq-*}) to its source topic, wait for the broker's confirmation,
 * then ack the dead letter; leave every other record unsettled, so closing the subscription gives
 * it back. A crash between the publish and the ack leaves the record in the dead-letter topic and a
 * copy in the source topic (at least once, as with {@code redrive}).
 *
 * <p>Stops once every wanted id was found, or when nothing arrived for {@code idle}. One instance
 * per run; not thread-safe.
 */
final class SelectiveRedrive {
  /** What a run did: how many records it moved (or would move), and the ids it never saw. */
  record Result(int redriven, List<String> missing) {}

  private final Polybus bus;
  private final String topic;
  private final Duration idle;
  private final boolean dryRun;
  private final Progress progress;

  SelectiveRedrive(Polybus bus, String topic, Duration idle, boolean dryRun, Progress progress) {
    this.bus = bus;
    this.topic = topic;
    this.idle = idle;
    this.dryRun = dryRun;
    this.progress = progress;
  }

  Result run(Set<String> ids) throws InterruptedException {
    Set<String> remaining = new LinkedHashSet<>(ids);
    int redriven = 0;
    try (DeliveryStream stream = DeadLetters.open(bus, topic)) {
      while (!remaining.isEmpty()) {
        Delivery d = stream.next(idle);
        if (d == null) {
          break;
        }
        Message m = d.message();
        if (!remaining.contains(m.id())) {
          continue; // not chosen: stays unsettled and goes back at close
        }
        String source = m.header(DeadLetterHeaders.SOURCE_TOPIC);
        if (source == null) {
          throw new CliException(
              ExitCode.BAD_MESSAGE,
              "dead letter " + m.id() + " has no " + DeadLetterHeaders.SOURCE_TOPIC + " header");
        }
        if (!dryRun) {
          bus.publishAndWait(source, DeadLetters.original(m));
          d.ack();
        }
        remaining.remove(m.id());
        redriven++;
        progress.step(m.id(), source, dryRun);
      }
    }
    progress.done();
    return new Result(redriven, List.copyOf(remaining));
  }
}
