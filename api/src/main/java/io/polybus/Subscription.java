package io.polybus;

import java.time.Duration;

/**
 * A running subscription of one member to a group. Thread-safe.
 *
 * <p>Closing stops fetching, lets handlers that are already running finish and settle until the
 * drain deadline, and gives every delivery that is still unsettled (queued, waiting for a retry, or
 * still running after the deadline) back to the group, where another member receives it. Closing is
 * idempotent and may be called from any thread, including a handler of this subscription (which
 * then does not wait for itself).
 */
public interface Subscription extends AutoCloseable {
  /** The default drain deadline of {@link #close()}. */
  Duration DEFAULT_DRAIN = Duration.ofSeconds(30);

  String topic();

  String group();

  /**
   * The deliveries of this subscription handed to the runtime and not yet settled with the broker:
   * those in a handler, waiting for a worker or for a retry, and dead letters not yet confirmed. At
   * most {@link SubscribeOptions#maxInFlight()}; 0 when idle. A snapshot, cheap to read.
   */
  int inFlight();

  /** True until {@link #close} starts, or the subscription fails for good. */
  boolean isActive();

  /**
   * Stops handing deliveries to this member's handler until {@link #resume()}: handlers already
   * running finish and settle, nothing new starts (deliveries already fetched wait, and count in
   * {@link #inFlight()}), no more is fetched, and the member stays alive in its group (its leases
   * are kept, so a pause longer than {@link SubscribeOptions#ackTimeout()} causes no redelivery and
   * no rebalance). Retries that come due wait too. Idempotent; any thread, also a handler's.
   * Closing a paused subscription gives what waits back to the group.
   */
  void pause();

  /**
   * Undoes {@link #pause()}: waiting deliveries go to the handler, fetching goes on. Idempotent.
   */
  void resume();

  /**
   * True between {@link #pause()} and {@link #resume()}. An open {@link CircuitBreaker} also stops
   * the handler, but does not make this true.
   */
  boolean isPaused();

  /** Closes with the default drain deadline of 30 seconds. */
  @Override
  void close();

  /**
   * Closes, waiting at most {@code drainDeadline} for running handlers.
   *
   * @return true when every running handler finished within the deadline
   */
  boolean close(Duration drainDeadline);
}
