package io.polybus.redis;

import java.time.Duration;

/**
 * The parsed configuration of one bus: where Redis is, how keys are named, and the limits.
 * Immutable.
 *
 * @param prefix prepended to every key this backend writes ({@code polybus:} by default)
 * @param partitions 0 for one stream per topic (no ordering by key); N &ge; 1 for N streams per
 *     topic, each read by one member of a group at a time
 * @param maxLen approximate maximum entries per stream ({@code XADD MAXLEN ~}), 0 for no limit
 * @param retention entries older than this are trimmed on publish ({@code XADD MINID ~}), {@link
 *     Duration#ZERO} for no limit
 */
record RedisSettings(
    String host,
    int port,
    int database,
    String user,
    String password,
    boolean tls,
    String prefix,
    int partitions,
    long maxLen,
    Duration retention,
    Duration timeout,
    Duration publishTimeout,
    int maxPayloadBytes,
    int poolSize,
    String clientName) {

  /** The stream of {@code topic}, or of one of its partitions. */
  String stream(String topic, int partition) {
    return partitions == 0 ? prefix + topic : prefix + topic + ":p" + partition;
  }

  /**
   * The partition a message goes to: its key's hash (or its id's, without a key) modulo the
   * partition count.
   */
  int partitionOf(String key, String id) {
    return partitions == 0 ? 0 : Math.floorMod((key != null ? key : id).hashCode(), partitions);
  }

  int streamCount() {
    return Math.max(1, partitions);
  }

  /** The sorted set of a group's delayed retries on one stream, scored by due time. */
  static String delayed(String stream, String group) {
    return stream + ":delayed:" + group;
  }

  /**
   * The sorted set of messages published to one stream with a delay, scored by due time (the
   * server's clock); each is added to the stream when due.
   */
  static String scheduled(String stream) {
    return stream + ":scheduled";
  }

  /** The lease of one partition stream within a group: the name of the member reading it. */
  static String lease(String stream, String group) {
    return stream + ":lease:" + group;
  }

  /**
   * The sorted set of a group's live members (partitioned mode), scored by when each one's liveness
   * expires.
   */
  String members(String topic, String group) {
    return prefix + topic + ":members:" + group;
  }

  /**
   * Whether {@code topic} is a bus's own reply topic (request-reply names them {@code
   * polybus.replies.<id>}). Such a topic is read by one bus only and deleted at its close, so its
   * streams get a TTL refreshed while that bus reads them (a requester that dies leaves nothing for
   * long) and a reply to it never recreates a deleted stream ({@code XADD NOMKSTREAM}).
   */
  static boolean isReplyTopic(String topic) {
    return topic.startsWith(REPLY_TOPIC_PREFIX);
  }

  static final String REPLY_TOPIC_PREFIX = io.polybus.spi.PortableNames.REPLY_TOPIC_PREFIX;

  /** How long a reply topic's keys outlive the last refresh by the bus that reads them. */
  static final Duration REPLY_TTL = Duration.ofMinutes(5);

  /** How often a reading bus refreshes its reply topic's TTL: well within {@link #REPLY_TTL}. */
  static final Duration REPLY_TTL_REFRESH = Duration.ofSeconds(30);

  /** Where the server is, for messages: never the password. */
  String where() {
    return (tls ? "rediss://" : "redis://") + host + ":" + port + "/" + database;
  }
}
