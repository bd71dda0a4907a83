package io.polybus;

/**
 * How urgent a message is. A subscription that reads priorities ({@link
 * SubscribeOptions.Builder#priority(boolean)}) and is behind is handed waiting {@link #HIGH}
 * messages before waiting {@link #NORMAL} ones. See docs/semantics.md, "Priority".
 */
public enum Priority {
  /** The default. */
  NORMAL,
  /** Handed out before waiting normal messages, by subscriptions that read priorities. */
  HIGH
}
