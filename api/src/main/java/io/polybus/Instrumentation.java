package io.polybus;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A hook the bus calls around everything it does with a message: publish, each delivery attempt,
 * its settle, dead-lettering and redrive. Tracing and metrics modules ({@code
 * polybus-opentelemetry}, {@code polybus-micrometer}) implement it; install one with {@link
 * Polybus#connect(PolybusOptions, Instrumentation)}, several with {@link #compose}.
 *
 * <p>With none installed the bus makes no call and allocates nothing for it. An {@link Observer}
 * method that returns null means "not observed": the bus then makes no further call for that
 * operation.
 *
 * <h2>Rules the bus keeps for every backend</h2>
 *
 * <ul>
 *   <li>{@link Observer#publishing} is called on the publishing thread before the backend sees the
 *       messages; what {@link Sending#messages()} returns is what is published (an observer adds
 *       its trace headers there; since headers are a map, a header set again replaces the old value
 *       and never piles up). The bus checks the returned messages against the backend's limits
 *       again. {@link Sending#completed} is called exactly once, before the caller's future
 *       completes.
 *   <li>{@link Observer#attempting} is called on the handler's thread for every delivery attempt
 *       whose handler is about to run, with the attempt number; the handler runs inside {@link
 *       Attempt#enter()}. {@link Attempt#settled} is called exactly once per attempt when it is
 *       settled (ack, retry, dead letter), on whatever thread settled it, or with {@link
 *       Outcome#GIVEN_BACK} when the attempt ended without a settle because its subscription
 *       closed. In {@link AckMode#MANUAL} a delivery the handler keeps unsettled past the close of
 *       its subscription gets no {@code settled} call.
 *   <li>{@link Observer#deadLettering} is called once per dead letter, with the attempt that gave
 *       up (null when the handler did not run: a record delivered more than {@code maxAttempts}
 *       times because its consumers died). Its {@link Sending#completed} is called once the dead
 *       letter is confirmed, or with the failure when the subscription closed before it was (the
 *       record is then delivered again).
 *   <li>{@link Observer#redriving} is called once per record {@link Polybus#redrive} moves back.
 * </ul>
 *
 * <p>Observers are called concurrently from many threads and must be thread-safe; they must not
 * block and must not throw (an exception from an observer is logged and otherwise ignored, and the
 * message is handled as if no observer were installed).
 */
@FunctionalInterface
public interface Instrumentation {
  /**
   * Called once when a bus opens, with the bus itself (its options and capabilities are set; it
   * does not yet have subscriptions). The observer lives until {@link Observer#closed()}.
   */
  Observer attach(Polybus bus);

  /** Installs every part; each is called in the order given. */
  static Instrumentation compose(Instrumentation... parts) {
    List<Instrumentation> all = List.of(parts);
    return bus -> {
      List<Observer> observers = new ArrayList<>();
      for (Instrumentation i : all) {
        observers.add(Objects.requireNonNull(i.attach(bus), i + ".attach returned null"));
      }
      return new ComposedObserver(observers);
    };
  }

  /**
   * The OpenTelemetry {@code messaging.system} of a backend's URI scheme, for every instrumentation
   * to name the backend alike: the semantic conventions' well-known values for Kafka ({@code
   * kafka}), RabbitMQ ({@code rabbitmq}) and SQS ({@code aws_sqs}), and Polybus's own for Redis
   * Streams ({@code redis_streams}), the embedded log ({@code polybus_log}) and the in-memory
   * backend ({@code polybus_mem}); any other scheme as it is, in lower case.
   */
  static String messagingSystem(String scheme) {
    String s = scheme.toLowerCase(java.util.Locale.ROOT);
    return switch (s) {
      case "kafka" -> "kafka";
      case "rabbitmq", "amqp", "amqps" -> "rabbitmq";
      case "sqs" -> "aws_sqs";
      case "redis", "rediss" -> "redis_streams";
      case "log" -> "polybus_log";
      case "mem" -> "polybus_mem";
      default -> s;
    };
  }

  /** What happened to a delivery attempt. */
  enum Outcome {
    /** Acked: the message is done. */
    ACK,
    /** A retry was scheduled: another attempt follows. */
    RETRY,
    /** Handed to the dead-letter topic. */
    DEAD_LETTER,
    /** Given back unsettled (its subscription closed); the broker delivers it again. */
    GIVEN_BACK
  }

  /**
   * The observer of one bus. Every method has a default that observes nothing, so an observer
   * implements only what it needs.
   */
  interface Observer {
    /** A publish of {@code messages} to {@code topic} (one element for a single publish). */
    default Sending publishing(String topic, List<Message> messages) {
      return null;
    }

    /**
     * Attempt {@link Delivery#attempt()} of a delivery is about to run its handler.
     *
     * @param partition the partition the message was read from, where the backend has partitions
     *     (as in {@link PublishReceipt#position()}), or null
     */
    default Attempt attempting(Delivery delivery, String partition) {
      return null;
    }

    /**
     * A dead letter for {@code delivery}'s message is about to be published.
     *
     * @param last the attempt that gave up, or null when no handler ran
     * @param deadLetter the record about to be published, with its {@link DeadLetterHeaders}
     */
    default Sending deadLettering(
        Attempt last, Delivery delivery, String deadLetterTopic, Message deadLetter) {
      return null;
    }

    /**
     * {@link Polybus#redrive} is about to publish {@code republished}, made from the dead-letter
     * {@code record}, to {@code sourceTopic}.
     */
    default Sending redriving(
        String deadLetterTopic, Message record, String sourceTopic, Message republished) {
      return null;
    }

    /** A subscription of the bus started. */
    default void subscribed(Subscription subscription) {}

    /** A subscription of the bus closed. */
    default void unsubscribed(Subscription subscription) {}

    /**
     * The {@link CircuitBreaker} of {@code subscription} went from {@code from} to {@code to}, for
     * the reason {@code why}.
     */
    default void circuitChanged(
        Subscription subscription,
        CircuitBreaker.State from,
        CircuitBreaker.State to,
        String why) {}

    /**
     * A reply reached this bus's reply topic for no request in flight (it came after its request's
     * timeout, or was cancelled, or answers a request of an earlier run), and was dropped.
     */
    default void replyDropped(String replyTopic, Message reply) {}

    /** The bus closed; no call follows. */
    default void closed() {}
  }

  /** One observed publish. */
  interface Sending {
    /** The messages to publish, in order and as many as given; called once, before publishing. */
    List<Message> messages();

    /**
     * The publish ended: with the receipts (empty for a dead letter) and a null failure, or with
     * the failure. Called once.
     */
    void completed(List<PublishReceipt> receipts, Throwable failure);
  }

  /** One observed delivery attempt. */
  interface Attempt {
    /** Makes this attempt current on the calling thread while its handler runs. */
    Scope enter();

    /**
     * The attempt ended.
     *
     * @param failure what the handler threw, or null (also for a settle the handler chose)
     */
    void settled(Outcome outcome, Throwable failure);
  }

  /** What {@link Attempt#enter()} made current; closed on the same thread. */
  interface Scope extends AutoCloseable {
    @Override
    void close();
  }
}
