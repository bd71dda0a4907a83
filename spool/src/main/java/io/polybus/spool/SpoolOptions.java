package io.polybus.spool;

import io.polybus.Message;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * How a {@link Spool} stores and forwards: where, how much, how often it retries.
 *
 * <p>Immutable and thread-safe; build with {@link #builder(Path)}, derive with {@link
 * #newBuilder()}.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code directory}</td><td>required</td><td>the spool's own directory; one process at a time
 *       (a lock file says so); created if absent</td></tr>
 *   <tr><td>{@code maxMessages}</td><td>100,000</td><td>spooled messages not yet forwarded; beyond it a
 *       publish that would be spooled fails with {@link io.polybus.BackPressureException}. Also the
 *       bound of messages held in memory behind an in-flight publish of their key</td></tr>
 *   <tr><td>{@code maxBytes}</td><td>0 (no bound)</td><td>bytes of spooled messages not yet forwarded
 *       (payload, key, headers and topic)</td></tr>
 *   <tr><td>{@code retryBackoff}</td><td>100 ms, 5 s</td><td>the forwarder's delay after a failed attempt:
 *       initial, doubling up to max, plus up to 10 % jitter</td></tr>
 *   <tr><td>{@code sendTimeout}</td><td>60 s</td><td>the longest the spool waits for the broker to confirm
 *       a publish (direct or forwarded) before it takes it for failed; a safety net above the
 *       backend's own publish bound, so set it higher than that (Kafka: twice {@code
 *       publishTimeout})</td></tr>
 *   <tr><td>{@code forwarderConcurrency}</td><td>2</td><td>forwarder threads; each forwards a batch of
 *       up to 256 messages of distinct keys at a time</td></tr>
 *   <tr><td>{@code syncWrites}</td><td>false</td><td>false: a spooled message survives a crash of the
 *       process (the page cache); true: it also survives a crash of the machine (each append forced
 *       to the device before its receipt, the {@code log:} backend's {@code fsync=sync})</td></tr>
 *   <tr><td>{@code beforePublish}</td><td>none</td><td>applied to every message on the caller's thread
 *       before it is routed; use it to inject {@code Context.current()}'s trace context, so that a
 *       message that ends up spooled carries the caller's trace to the forwarder</td></tr>
 * </table>
 */
public final class SpoolOptions {
  private final Path directory;
  private final long maxMessages;
  private final long maxBytes;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration sendTimeout;
  private final int forwarderConcurrency;
  private final boolean syncWrites;
  private final UnaryOperator<Message> beforePublish;

  private SpoolOptions(Builder b) {
    this.directory = b.directory;
    this.maxMessages = b.maxMessages;
    this.maxBytes = b.maxBytes;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.sendTimeout = b.sendTimeout;
    this.forwarderConcurrency = b.forwarderConcurrency;
    this.syncWrites = b.syncWrites;
    this.beforePublish = b.beforePublish;
  }

  /** A builder for a spool in {@code directory}, with every other option at its default. */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  /** Options with every default, in {@code directory}. */
  public static SpoolOptions of(Path directory) {
    return builder(directory).build();
  }

  public Builder newBuilder() {
    Builder b = new Builder(directory);
    b.maxMessages = maxMessages;
    b.maxBytes = maxBytes;
    b.initialBackoff = initialBackoff;
    b.maxBackoff = maxBackoff;
    b.sendTimeout = sendTimeout;
    b.forwarderConcurrency = forwarderConcurrency;
    b.syncWrites = syncWrites;
    b.beforePublish = beforePublish;
    return b;
  }

  public Path directory() {
    return directory;
  }

  public long maxMessages() {
    return maxMessages;
  }

  /** The bound on spooled bytes, or 0 for none. */
  public long maxBytes() {
    return maxBytes;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  public Duration sendTimeout() {
    return sendTimeout;
  }

  public int forwarderConcurrency() {
    return forwarderConcurrency;
  }

  public boolean syncWrites() {
    return syncWrites;
  }

  /** The hook applied to every published message; the identity when none was set. */
  public UnaryOperator<Message> beforePublish() {
    return beforePublish;
  }

  @Override
  public String toString() {
    return "SpoolOptions{directory="
        + directory
        + ", maxMessages="
        + maxMessages
        + ", maxBytes="
        + (maxBytes == 0 ? "none" : maxBytes)
        + ", retryBackoff="
        + initialBackoff
        + ".."
        + maxBackoff
        + ", sendTimeout="
        + sendTimeout
        + ", forwarderConcurrency="
        + forwarderConcurrency
        + ", syncWrites="
        + syncWrites
        + "}";
  }

  /** Builds {@link SpoolOptions}. Not thread-safe. */
  public static final class Builder {
    private final Path directory;
    private long maxMessages = 100_000;
    private long maxBytes;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(5);
    private Duration sendTimeout = Duration.ofSeconds(60);
    private int forwarderConcurrency = 2;
    private boolean syncWrites;
    private UnaryOperator<Message> beforePublish = UnaryOperator.identity();

    private Builder(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** 1 to 100,000,000. */
    public Builder maxMessages(long maxMessages) {
      if (maxMessages < 1 || maxMessages > 100_000_000) {
        throw new IllegalArgumentException(
            "maxMessages must be between 1 and 100000000, was " + maxMessages);
      }
      this.maxMessages = maxMessages;
      return this;
    }

    /** At least 1 KiB, or 0 for no bound. */
    public Builder maxBytes(long maxBytes) {
      if (maxBytes != 0 && maxBytes < 1024) {
        throw new IllegalArgumentException(
            "maxBytes must be 0 (no bound) or at least 1024, was " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /** The forwarder's delay after its first failed attempt and the cap; 1 ms to 10 minutes. */
    public Builder retryBackoff(Duration initial, Duration max) {
      checkRange(initial, Duration.ofMillis(1), Duration.ofMinutes(10), "initial backoff");
      checkRange(max, Duration.ofMillis(1), Duration.ofMinutes(10), "max backoff");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "max backoff ("
                + max
                + ") must not be less than the initial backoff ("
                + initial
                + ")");
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** 100 ms to 1 hour. */
    public Builder sendTimeout(Duration sendTimeout) {
      this.sendTimeout =
          checkRange(sendTimeout, Duration.ofMillis(100), Duration.ofHours(1), "sendTimeout");
      return this;
    }

    /** 1 to 64. */
    public Builder forwarderConcurrency(int threads) {
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException(
            "forwarderConcurrency must be between 1 and 64, was " + threads);
      }
      this.forwarderConcurrency = threads;
      return this;
    }

    public Builder syncWrites(boolean syncWrites) {
      this.syncWrites = syncWrites;
      return this;
    }

    /**
     * A function applied to every message given to the spool's publish methods, on the caller's
     * thread, before the message is checked and routed; it must return a message (the same one or a
     * derived one, for example with trace headers added).
     */
    public Builder beforePublish(UnaryOperator<Message> beforePublish) {
      this.beforePublish = Objects.requireNonNull(beforePublish, "beforePublish");
      return this;
    }

    public SpoolOptions build() {
      return new SpoolOptions(this);
    }

    private static Duration checkRange(Duration d, Duration min, Duration max, String name) {
      Objects.requireNonNull(d, name);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            name + " must be between " + min + " and " + max + ", was " + d);
      }
      return d;
    }
  }
}
