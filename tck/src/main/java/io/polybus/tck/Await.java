package io.polybus.tck;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assertions;

/**
 * Waits for a condition with a bounded timeout, instead of sleeping "long enough".
 *
 * <p>{@link #until} polls the condition every few milliseconds on the calling thread and returns as
 * soon as it holds; when the timeout passes first, it fails the test with the description,
 * evaluated at that moment so it can report the state (for example "1998 of 2000 messages
 * arrived"). The condition must be cheap and thread-safe: it usually reads collections that handler
 * threads fill. Stateless and thread-safe.
 */
public final class Await {
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private Await() {}

  /**
   * Waits until {@code condition} holds, failing with {@code description} after {@code timeout}.
   */
  public static void until(Duration timeout, String description, BooleanSupplier condition) {
    until(timeout, () -> description, condition);
  }

  /**
   * Waits until {@code condition} holds, failing after {@code timeout} with the text {@code
   * description} supplies then.
   */
  public static void until(
      Duration timeout, Supplier<String> description, BooleanSupplier condition) {
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(condition, "condition");
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline >= 0) {
        // One last look: the condition may have become true while we slept past the deadline.
        if (condition.getAsBoolean()) {
          return;
        }
        Assertions.fail(
            "timed out after " + timeout.toMillis() + " ms waiting until " + description.get());
      }
      sleepNanos(POLL_NANOS);
    }
  }

  /**
   * Sleeps for {@code period}: only for checks that something does <em>not</em> happen within it,
   * where there is no condition to wait for.
   */
  public static void quietFor(Duration period) {
    sleepNanos(period.toNanos());
  }

  private static void sleepNanos(long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting", e);
    }
  }
}
