package io.polybus.cli;

import io.polybus.ConfigurationException;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.PortableNames;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * A member of a group read as a pull loop, one level below the runtime: the tool opens its own
 * backend from the bus's options and polls its consumer itself, so no handler ever "starts" a
 * delivery. The command takes records in turn, prints them and then acks, moves or leaves them.
 * {@link #close} marks every record left unsettled as never handled ({@link
 * InboundRecord#markNotHandled()}) and closes the member, so the group gets it back <em>without an
 * attempt counted</em> on every backend that declares {@code uncountedGiveBack}: a look does not
 * use up a message's retries (see docs/cli.md, "Peek").
 *
 * <p>{@link Ordering#NONE}: an unsettled record never holds back later ones of its key.
 *
 * <p>{@link #next} and {@link #close} are for one thread.
 */
final class DeliveryStream implements AutoCloseable {
  private final Backend backend;
  private final BackendConsumer consumer;
  private final String topic;
  private final String group;
  private final int maxInFlight;
  private final ArrayDeque<InboundRecord> buffered = new ArrayDeque<>();
  private final List<Held> held = new ArrayList<>();

  DeliveryStream(Polybus bus, String topic, String group, StartFrom from, int maxInFlight) {
    this.topic = PortableNames.checkTopic(topic); // the bus's own check: the same message and exit
    this.group = PortableNames.checkGroup(group);
    this.maxInFlight = Math.max(1, Math.min(maxInFlight, 1_000_000));
    this.backend = open(bus.options());
    try {
      this.consumer =
          backend.subscribe(
              new ConsumerSpec(
                  topic, group, Ordering.NONE, from, Duration.ofSeconds(30), this.maxInFlight));
    } catch (RuntimeException e) {
      backend.close();
      throw e;
    }
  }

  /** A backend of its own for {@code options}, found as {@code Polybus.connect} finds one. */
  private static Backend open(PolybusOptions options) {
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
      if (p.schemes().contains(options.scheme())) {
        return p.open(options);
      }
    }
    throw new ConfigurationException("no Polybus backend for scheme '" + options.scheme() + "'");
  }

  /**
   * The next record, or null when none arrived within {@code wait} ({@link Duration#ZERO}: wait for
   * ever).
   */
  Delivery next(Duration wait) throws InterruptedException {
    while (buffered.isEmpty()) {
      int room = maxInFlight - unsettled();
      if (room <= 0) {
        return null; // the caller holds as many as it asked to; nothing more comes
      }
      List<InboundRecord> got = consumer.poll(room, wait.isZero() ? Duration.ofSeconds(5) : wait);
      if (got.isEmpty() && !wait.isZero()) {
        return null;
      }
      buffered.addAll(got);
    }
    Held h = new Held(buffered.poll());
    held.add(h);
    return h;
  }

  private int unsettled() {
    int n = 0;
    for (Held h : held) {
      if (!h.settled) {
        n++;
      }
    }
    return n;
  }

  /**
   * Gives back every record not settled, uncounted, and closes the member and its backend. Records
   * fetched but never handed to the command go back uncounted too.
   */
  @Override
  public void close() {
    try {
      for (Held h : held) {
        if (!h.settled) {
          h.record.markNotHandled();
        }
      }
      for (InboundRecord r : buffered) {
        r.markNotHandled();
      }
      consumer.close();
    } finally {
      backend.close();
    }
  }

  /** One record as a {@link Delivery}: ack only; the tool never retries or dead-letters. */
  private final class Held implements Delivery {
    final InboundRecord record;
    boolean settled;

    Held(InboundRecord record) {
      this.record = record;
    }

    @Override
    public Message message() {
      return record.message();
    }

    @Override
    public String topic() {
      return topic;
    }

    @Override
    public String group() {
      return group;
    }

    @Override
    public int attempt() {
      return record.deliveryCount();
    }

    @Override
    public boolean ack() {
      if (settled) {
        return false;
      }
      settled = true;
      record.ack();
      return true;
    }

    @Override
    public boolean retry(Duration delay) {
      throw new UnsupportedOperationException("the tool does not retry");
    }

    @Override
    public boolean deadLetter(String reason) {
      throw new UnsupportedOperationException("the tool does not dead-letter");
    }

    @Override
    public boolean isSettled() {
      return settled;
    }
  }
}
