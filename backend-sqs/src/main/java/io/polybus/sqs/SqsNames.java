package io.polybus.sqs;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How a (topic, group) pair names its SQS queue. Immutable and thread-safe.
 *
 * <p>SQS queue names are 1 to 80 characters of {@code [A-Za-z0-9_-]}, plus the suffix {@code .fifo}
 * (counted in the 80) for FIFO queues. Portable Polybus names are up to 100 characters of {@code
 * [A-Za-z0-9._-]}. The queue of a pair is
 *
 * <pre>
 *   &lt;prefix&gt; &lt;topic part&gt; "__" &lt;group part&gt; [".fifo"]
 * </pre>
 *
 * where a part is the name with {@code _} written {@code _u} and {@code .} written {@code _d} (so a
 * part never holds {@code __} and the separator is unambiguous). A topic part longer than {@link
 * #topicBudget()} characters, or a group part longer than what is left of the 80, is cut (never
 * inside an escape) and ends with {@code _h} and 16 hex digits of the SHA-256 of the whole name;
 * {@code _h} never occurs in an uncut part, so cut and uncut parts never meet. The topic part
 * depends on the topic alone, so {@code ListQueues} with the prefix {@code <prefix><topic part>__}
 * finds exactly the group queues of a topic.
 */
final class SqsNames {
  static final int MAX_QUEUE_NAME = 80;
  static final String FIFO_SUFFIX = ".fifo";
  static final String SEPARATOR = "__";
  private static final int HASH_HEX = 16;

  private final String prefix;
  private final boolean fifo;
  private final int topicBudget;
  private final int pairBudget;

  SqsNames(String prefix, boolean fifo) {
    this.prefix = prefix;
    this.fifo = fifo;
    int available =
        MAX_QUEUE_NAME - prefix.length() - (fifo ? FIFO_SUFFIX.length() : 0) - SEPARATOR.length();
    if (available < 2 * (HASH_HEX + 6)) {
      throw new IllegalArgumentException("queue name prefix '" + prefix + "' is too long");
    }
    this.pairBudget = available;
    // The topic gets a fixed share, so that its part is the same whichever group it is paired with.
    this.topicBudget = available * 3 / 5;
  }

  /** The longest prefix that leaves room for both parts. */
  static int maxPrefixLength(boolean fifo) {
    return MAX_QUEUE_NAME
        - (fifo ? FIFO_SUFFIX.length() : 0)
        - SEPARATOR.length()
        - 2 * (HASH_HEX + 6);
  }

  int topicBudget() {
    return topicBudget;
  }

  /** The queue of a group of a topic. */
  String queue(String topic, String group) {
    String t = part(topic, topicBudget);
    return prefix
        + t
        + SEPARATOR
        + part(group, pairBudget - t.length())
        + (fifo ? FIFO_SUFFIX : "");
  }

  /** What every group queue of {@code topic} starts with, for {@code ListQueues}. */
  String topicPrefix(String topic) {
    return prefix + part(topic, topicBudget) + SEPARATOR;
  }

  /**
   * True when {@code queueName}, found by {@link #topicPrefix}, is a group queue of this mode: it
   * has a group part after the prefix and the {@code .fifo} suffix exactly in FIFO mode.
   */
  boolean isGroupQueue(String topicPrefix, String queueName) {
    if (!queueName.startsWith(topicPrefix) || queueName.endsWith(FIFO_SUFFIX) != fifo) {
      return false;
    }
    String group =
        queueName.substring(
            topicPrefix.length(), queueName.length() - (fifo ? FIFO_SUFFIX.length() : 0));
    if (group.isEmpty() || group.contains(SEPARATOR)) {
      return false;
    }
    for (int i = 0; i < group.length(); i++) {
      char c = group.charAt(i);
      if (!(c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || c == '-'
          || c == '_')) {
        return false;
      }
    }
    return true;
  }

  /** The escaped name, or its cut and hashed form when longer than {@code budget}. */
  static String part(String name, int budget) {
    StringBuilder sb = new StringBuilder(name.length() + 8);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '_') {
        sb.append("_u");
      } else if (c == '.') {
        sb.append("_d");
      } else {
        sb.append(c);
      }
    }
    if (sb.length() <= budget) {
      return sb.toString();
    }
    int keep = budget - 2 - HASH_HEX;
    if (keep > 0 && sb.charAt(keep - 1) == '_') {
      keep--; // never cut an escape in two
    }
    return sb.substring(0, Math.max(0, keep)) + "_h" + sha256Hex(name).substring(0, HASH_HEX);
  }

  static String sha256Hex(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder(d.length * 2);
      for (byte b : d) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
