package io.polybus.internal;

/**
 * Not API. The lifecycle flags of one subscription, read by all of its parts and written only by
 * {@link SubscriptionRuntime}'s stop and fail paths, each once and in this order: {@code running}
 * false, then {@code stopping} true (both before any worker is told to stop), then {@code
 * givenBack} true (just before the backend gets the unsettled records back). All are volatile: a
 * part that sees a later flag also sees the earlier ones.
 */
final class RunState {
  /** False once the poll loop must take no more records (closing, or failed for good). */
  volatile boolean running = true;

  /** True once close started: no handler starts any more, due retries are dropped. */
  volatile boolean stopping;

  /**
   * True once {@code consumer.close()} is about to give the unsettled records back: from then on a
   * settle call returns false, because the backend ignores it and the record is delivered again.
   */
  volatile boolean givenBack;
}
