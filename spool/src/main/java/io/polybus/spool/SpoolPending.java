package io.polybus.spool;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link Spool} holds and has not forwarded yet, as of one call to {@link Spool#pending()}.
 * Immutable.
 *
 * @param messages spooled messages not yet confirmed by the broker, those left by an earlier
 *     process in the directory included
 * @param bytes their size (payload, key, headers, topic) as spooled by this process; a backlog left
 *     by an earlier process counts with the size of its log files (an upper bound) until it has
 *     been forwarded
 * @param oldestAge how long the oldest of them has waited, zero when there are none; for a backlog
 *     left by an earlier process, the time since its log files were created (an upper bound)
 * @param spoolingAll true while every publish goes to the spool: a direct publish or a forward
 *     failed and no forward has succeeded since ("broker down"), or a backlog left by an earlier
 *     process is still being forwarded
 * @param parked messages the forwarder gave up on since the spool was opened (the broker refused
 *     them for good, or they failed {@value Spool#MAX_ATTEMPTS} times): kept in the directory's
 *     {@code parked} log, never forwarded, never lost
 */
public record SpoolPending(
    long messages, long bytes, Duration oldestAge, boolean spoolingAll, long parked) {
  public SpoolPending {
    Objects.requireNonNull(oldestAge, "oldestAge");
  }
}
