package io.polybus.cli;

import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Reads a dead-letter topic as group {@link Polybus#DEAD_LETTER_GROUP}, the group the runtime keeps
 * dead letters for, and what every dead-letter subcommand shares: the headers to show and the
 * original message to redrive.
 *
 * <p>Stateless; thread-safe.
 */
final class DeadLetters {
  private DeadLetters() {}

  /**
   * Opens a peek on the dead-letter topic: nothing is settled unless the caller settles it, and
   * {@link DeliveryStream#close} gives the rest back.
   */
  static DeliveryStream open(Polybus bus, String deadLetterTopic) {
    return new DeliveryStream(
        bus, deadLetterTopic, Polybus.DEAD_LETTER_GROUP, StartFrom.EARLIEST, 1_000_000);
  }

  /**
   * Every record until none arrived for {@code idle} or {@code limit} were read, or until one
   * matches {@code stop}; all left unsettled.
   */
  static List<Delivery> read(
      DeliveryStream stream, Duration idle, int limit, Predicate<Message> stop)
      throws InterruptedException {
    List<Delivery> all = new ArrayList<>();
    while (all.size() < limit) {
      Delivery d = stream.next(idle);
      if (d == null) {
        break;
      }
      all.add(d);
      if (stop.test(d.message())) {
        break;
      }
    }
    return all;
  }

  /** The original message: same id, key, payload, timestamp, headers, without polybus-dlq-*. */
  static Message original(Message deadLetter) {
    Message.Builder b = deadLetter.newBuilder();
    DeadLetterHeaders.ALL.forEach(b::removeHeader);
    return b.build();
  }

  static String header(Message m, String name) {
    String v = m.header(name);
    return v == null ? "-" : v;
  }
}
