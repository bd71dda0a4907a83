package io.polybus;

/** Who settles a delivery. */
public enum AckMode {
  /** The handler returning acks; the handler throwing hands the failure to the retry policy. */
  AUTO,
  /**
   * The handler settles with {@link Delivery#ack()}, {@link Delivery#retry(java.time.Duration)} or
   * {@link Delivery#deadLetter(String)}, possibly later and from another thread. A handler that
   * throws before settling is treated as in {@link #AUTO}. An unsettled delivery counts against
   * {@link SubscribeOptions#maxInFlight()} until it is settled or the subscription closes.
   */
  MANUAL
}
