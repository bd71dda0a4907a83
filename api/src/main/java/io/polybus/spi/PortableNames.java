package io.polybus.spi;

import io.polybus.internal.Names;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The portable-name rule, for backends that name their own things (brokers, queues, files) the way
 * Polybus names topics and groups: 1 to 100 characters of {@code [A-Za-z0-9._-]}, not starting with
 * {@code .} or {@code -}.
 */
public final class PortableNames {
  public static final int MAX_LENGTH = Names.MAX_LENGTH;

  /**
   * How every reply topic of {@link io.polybus.Polybus#request} begins; the rest is the bus's id. A
   * backend may treat such topics specially (an expiry, no re-creation by a late reply): the
   * runtime makes them and deletes them at close ({@link Backend#deleteTopic}).
   */
  public static final String REPLY_TOPIC_PREFIX = "polybus.replies.";

  private PortableNames() {}

  public static boolean isPortable(String name) {
    return Names.isPortable(name);
  }

  /**
   * Returns {@code topic}, or throws the {@link IllegalArgumentException} the bus throws for a
   * topic name that is not portable, for code that reaches a backend below the runtime.
   */
  public static String checkTopic(String topic) {
    return Names.checkTopic(topic);
  }

  /** As {@link #checkTopic}, for a group name. */
  public static String checkGroup(String group) {
    return Names.checkGroup(group);
  }

  /**
   * The default dead-letter topic of a subscription ({@code SubscribeOptions.deadLetterTopic}
   * unset): {@code <topic>.<group>.dlq}; when that exceeds {@link #MAX_LENGTH}, a prefix of it,
   * {@code -}, an FNV-1a hash of the full name in hex and {@code .dlq}, so distinct pairs still get
   * distinct portable topics. The one copy of the rule: the runtime, the backends that route dead
   * letters themselves, and the TCK all call it.
   */
  public static String deadLetterTopic(String topic, String group) {
    String name =
        Objects.requireNonNull(topic, "topic")
            + "."
            + Objects.requireNonNull(group, "group")
            + ".dlq";
    if (name.length() <= MAX_LENGTH) {
      return name;
    }
    String hash = Integer.toHexString(fnv1a(name));
    String head = (topic + "." + group).substring(0, MAX_LENGTH - 4 - 1 - hash.length());
    return head + "-" + hash + ".dlq";
  }

  /**
   * The high-priority lane of {@code topic}, where {@link io.polybus.Priority#HIGH} messages are
   * published: {@code polybus.high.<topic>}; when that exceeds {@link #MAX_LENGTH}, a prefix of it,
   * {@code -} and an FNV-1a hash of the full name in hex. To a backend it is a topic like any
   * other.
   */
  public static String priorityLane(String topic) {
    String name = PRIORITY_LANE_PREFIX + Objects.requireNonNull(topic, "topic");
    if (name.length() <= MAX_LENGTH) {
      return name;
    }
    String hash = Integer.toHexString(fnv1a(name));
    return name.substring(0, MAX_LENGTH - 1 - hash.length()) + "-" + hash;
  }

  /** How every high-priority lane begins ({@link #priorityLane}). */
  public static final String PRIORITY_LANE_PREFIX = "polybus.high.";

  private static int fnv1a(String s) {
    int h = 0x811c9dc5;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x01000193;
    }
    return h;
  }
}
