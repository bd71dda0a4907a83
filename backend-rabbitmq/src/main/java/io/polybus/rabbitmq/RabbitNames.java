package io.polybus.rabbitmq;

import java.time.Duration;

/**
 * How portable topic and group names become RabbitMQ exchange and queue names. Deterministic, and
 * no two (topic, group) pairs share a queue, because {@code :} never occurs in a portable name:
 *
 * <pre>
 * topic exchange          T                       (fanout; "polybus:" + T when T starts with "amq.", reserved)
 * partition exchange      T:partitions            (headers; bound to T, only when a partitioned group exists)
 * group queue             T:G                     (quorum)
 * partition queue i       T:G:i                   (quorum, x-single-active-consumer), i in 0..N-1
 * wait queue              Q:wait-&lt;ms&gt;             (classic, x-message-ttl = ms, dead-letters back into Q)
 * topic wait queue        T::wait-&lt;ms&gt;            (classic, x-message-ttl = ms, dead-letters into T)
 * </pre>
 *
 * where {@code T} is the topic exchange name and {@code Q} a group or partition queue. Names stay
 * under AMQP's 255 bytes: portable names are ASCII and at most 100 characters each.
 */
final class RabbitNames {
  /**
   * Wait queues exist for these delays only: each step about 19% above the previous, so rounding up
   * is cheap.
   */
  private static final double STEP = Math.pow(2, 0.25);

  private RabbitNames() {}

  /** Request-reply names a bus's own reply topic {@code polybus.replies.<id>}. */
  static final String REPLY_TOPIC_PREFIX = io.polybus.spi.PortableNames.REPLY_TOPIC_PREFIX;

  /**
   * How long a reply topic's queue outlives its last consumer ({@code x-expires}): a requester that
   * dies without closing leaves its queue for this long. Only reply topics get it: their queues
   * have one reader, the bus that made them, and are deleted at its close anyway.
   */
  static final long REPLY_QUEUE_EXPIRES_MILLIS = Duration.ofMinutes(5).toMillis();

  static boolean isReplyTopic(String topic) {
    return topic.startsWith(REPLY_TOPIC_PREFIX);
  }

  /** Whether {@code queue} is a group, partition or wait queue of a reply topic. */
  static boolean isReplyQueue(String queue) {
    return queue.startsWith(REPLY_TOPIC_PREFIX);
  }

  static String exchange(String topic) {
    return topic.startsWith("amq.") ? "polybus:" + topic : topic;
  }

  static String partitionExchange(String topic) {
    return exchange(topic) + ":partitions";
  }

  static String groupQueue(String topic, String group) {
    return exchange(topic) + ":" + group;
  }

  static String partitionQueue(String topic, String group, int partition) {
    return groupQueue(topic, group) + ":" + partition;
  }

  static String waitQueue(String sourceQueue, long delayMillis) {
    return sourceQueue + ":wait-" + delayMillis;
  }

  /**
   * Where a message published with a delay waits before it is published to the topic's exchange.
   * The double colon keeps it apart from every group queue: a group is never named {@code :wait-1}.
   */
  static String topicWaitQueue(String topic, long delayMillis) {
    return exchange(topic) + "::wait-" + delayMillis;
  }

  /** Whether {@code name} is a wait queue ({@code Q:wait-<ms>}) of any group or partition queue. */
  static boolean isWaitQueue(String name) {
    return name.matches(".*:wait-[0-9]+");
  }

  /** Whether {@code name} is a wait queue of {@code sourceQueue}. */
  static boolean isWaitQueueOf(String name, String sourceQueue) {
    return name.startsWith(sourceQueue + ":wait-")
        && name.substring(sourceQueue.length() + 6).matches("[0-9]+");
  }

  /**
   * The wait-queue delay used for a requested delay: the smallest step of the series 1, 2, 3, 4, 5,
   * 6, 7, 9, 10, 12 ... ms (ceil of 2^(k/4)) that is at least {@code delay}, so the backoff stays a
   * lower bound and a group needs only a few wait queues (about 4 per doubling of the delay).
   */
  static long waitStepMillis(Duration delay) {
    long want = Math.max(1, (delay.toNanos() + 999_999) / 1_000_000);
    double v = 1;
    while (Math.ceil(v) < want) {
      v *= STEP;
    }
    return (long) Math.ceil(v);
  }

  /**
   * The partition of a key among {@code n}: non-negative, stable across JVMs and versions
   * (String.hashCode is specified).
   */
  static int partition(String keyOrId, int n) {
    return Math.floorMod(mix(keyOrId.hashCode()), n);
  }

  private static int mix(int h) {
    // Spreads keys that differ only in their last characters, which String.hashCode maps to
    // neighbouring values.
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    return h;
  }
}
