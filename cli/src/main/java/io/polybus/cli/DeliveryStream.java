package io.polybus.cli;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A subscription turned into a pull loop: the handler only queues each delivery unsettled ({@link
 * AckMode#MANUAL}), and the command's thread takes them in turn, prints them and then acks, moves
 * or leaves them. {@link #close} gives back every delivery left unsettled, which is how a peek
 * leaves messages where they were (see docs/cli.md, "Peek").
 *
 * <p>{@link Ordering#NONE}, so that an unsettled message never holds back later ones of its key;
 * the highest {@code maxAttempts} the API allows, so that the tool itself never dead-letters what
 * it reads, whatever its delivery count.
 *
 * <p>{@link #next} is for one thread; {@link #close} from that thread.
 */
final class DeliveryStream implements AutoCloseable {
  private final BlockingQueue<Delivery> queue = new LinkedBlockingQueue<>();
  private final Subscription subscription;

  DeliveryStream(Polybus bus, String topic, String group, StartFrom from, int maxInFlight) {
    SubscribeOptions options =
        SubscribeOptions.builder()
            .ackMode(AckMode.MANUAL)
            .ordering(Ordering.NONE)
            .maxInFlight(Math.max(1, Math.min(maxInFlight, 1_000_000)))
            .retryPolicy(RetryPolicy.builder().maxAttempts(1000).build())
            .startFrom(from)
            .build();
    subscription = bus.subscribe(topic, group, queue::add, options);
  }

  /**
   * The next delivery, or null when none arrived within {@code wait} ({@link Duration#ZERO}: wait
   * for ever).
   */
  Delivery next(Duration wait) throws InterruptedException {
    if (wait.isZero()) {
      return queue.take();
    }
    return queue.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Closes the subscription; every delivery not settled goes back to the group. */
  @Override
  public void close() {
    subscription.close(Duration.ofSeconds(10));
  }
}
