package io.polybus.tck;

import java.time.Duration;
import java.util.Objects;

/**
 * How long the TCK waits. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link #await()}: the longest the TCK waits for something that must happen (a message to
 *       arrive, a dead letter to appear). A correct backend usually needs a fraction of it; a test
 *       only waits this long when it is about to fail. Default 30 s.
 *   <li>{@link #quiet()}: how long the TCK watches for something that must <em>not</em> happen (a
 *       duplicate, a redelivery of an acked message, a message that was rejected) before it
 *       concludes it did not. Default 1 s. The same value, times three (at least 1 s), is the
 *       backoff of the poison message in {@link
 *       OrderingTck#shouldNotDelayOtherKeysWhileOneKeyWaitsForItsRetry()}, which other keys must
 *       outrun.
 *   <li>{@link #retrySlack()}: how much later than its configured backoff a retry may arrive.
 *       Default 3 s: generous for brokers whose delayed redelivery is coarse (whole seconds) or
 *       polled.
 * </ul>
 *
 * <p>Override {@link TckContext#timeouts()} to change them: a slow shared broker may want a longer
 * {@code await}; the TCK's own self-test uses shorter ones to stay fast. Assertions do not get
 * weaker with longer timeouts, only slower to fail.
 */
public final class TckTimeouts {
  private static final TckTimeouts DEFAULTS =
      new TckTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(3));

  private final Duration await;
  private final Duration quiet;
  private final Duration retrySlack;

  private TckTimeouts(Duration await, Duration quiet, Duration retrySlack) {
    this.await = positive(await, "await");
    this.quiet = positive(quiet, "quiet");
    this.retrySlack = positive(retrySlack, "retrySlack");
  }

  /** 30 s to await, 1 s of quiet, 3 s of retry slack. */
  public static TckTimeouts defaults() {
    return DEFAULTS;
  }

  /** The given await and quiet periods, with the default retry slack. */
  public static TckTimeouts of(Duration await, Duration quiet) {
    return new TckTimeouts(await, quiet, DEFAULTS.retrySlack);
  }

  public TckTimeouts withAwait(Duration await) {
    return new TckTimeouts(await, quiet, retrySlack);
  }

  public TckTimeouts withQuiet(Duration quiet) {
    return new TckTimeouts(await, quiet, retrySlack);
  }

  public TckTimeouts withRetrySlack(Duration retrySlack) {
    return new TckTimeouts(await, quiet, retrySlack);
  }

  /** The bound for conditions that must become true. */
  public Duration await() {
    return await;
  }

  /** The period in which nothing more may arrive. */
  public Duration quiet() {
    return quiet;
  }

  /** How much a retry may exceed its configured backoff. */
  public Duration retrySlack() {
    return retrySlack;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TckTimeouts
        && await.equals(((TckTimeouts) o).await)
        && quiet.equals(((TckTimeouts) o).quiet)
        && retrySlack.equals(((TckTimeouts) o).retrySlack);
  }

  @Override
  public int hashCode() {
    return Objects.hash(await, quiet, retrySlack);
  }

  @Override
  public String toString() {
    return "TckTimeouts{await=" + await + ", quiet=" + quiet + ", retrySlack=" + retrySlack + "}";
  }

  private static Duration positive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
    return d;
  }
}
