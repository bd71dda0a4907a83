package io.polybus.inmemory;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One named in-memory broker: its topics. Shared by every bus opened on the same name; discarded
 * when the last one closes. Thread-safe.
 */
final class MemBroker {
  private static final Map<String, MemBroker> BROKERS = new HashMap<>();

  final String name;
  final long retention;
  private final ConcurrentHashMap<String, MemTopic> topics = new ConcurrentHashMap<>();
  private int refs; // guarded by BROKERS

  private MemBroker(String name, long retention) {
    this.name = name;
    this.retention = retention;
  }

  /**
   * The broker of this name, created with {@code retention} if it does not exist. Pair with {@link
   * #release}.
   */
  static MemBroker acquire(String name, long retention) {
    synchronized (BROKERS) {
      MemBroker b = BROKERS.computeIfAbsent(name, n -> new MemBroker(n, retention));
      b.refs++;
      return b;
    }
  }

  void release() {
    synchronized (BROKERS) {
      if (--refs == 0) {
        BROKERS.remove(name);
        topics.values().forEach(MemTopic::discard);
      }
    }
  }

  MemTopic topic(String topic) {
    MemTopic t = topics.get(topic);
    return t != null ? t : topics.computeIfAbsent(topic, n -> new MemTopic(n, retention));
  }

  /**
   * Forgets {@code topic} and discards what it holds; false when it did not exist. A later publish
   * or subscribe makes a new, empty topic of that name. Members still joined (there should be none:
   * the runtime closes them first) see no more messages.
   */
  boolean delete(String topic) {
    MemTopic t = topics.remove(topic);
    if (t == null) {
      return false;
    }
    t.discard();
    return true;
  }

  /** For tests: whether {@code topic} exists on this broker now. */
  boolean hasTopic(String topic) {
    return topics.containsKey(topic);
  }

  int topicCount() {
    return topics.size();
  }
}
