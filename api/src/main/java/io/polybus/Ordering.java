package io.polybus;

/** How a subscription orders the handling of messages. */
public enum Ordering {
  /**
   * Messages with the same key are handled one at a time, in publish order, across every member of
   * the group and across retries: a message waiting for its retry holds back only later messages
   * with the same key; every other key keeps flowing. Messages without a key are not ordered. Needs
   * {@link Capabilities#orderedByKey()}; subscribing with it on a backend without that capability
   * fails.
   */
  KEY,
  /** No order is promised; failed messages may be retried after later ones. */
  NONE
}
