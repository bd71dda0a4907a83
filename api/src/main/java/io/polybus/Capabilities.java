package io.polybus;

/**
 * What a backend guarantees. The TCK proves every capability a backend declares and skips, by name,
 * the cases of a capability it declares absent. A backend never declares what it cannot do.
 *
 * <p>Immutable and thread-safe.
 */
public final class Capabilities {
  private final boolean orderedByKey;
  private final boolean replay;
  private final boolean replayFromTimestamp;
  private final boolean replayFromOffset;
  private final boolean durable;
  private final boolean nativeDelayedRetry;
  private final boolean mayDuplicate;
  private final boolean competingConsumers;
  private final boolean uncountedGiveBack;
  private final ConsumerLag.Accuracy lagAccuracy;
  private final int maxPayloadBytes;
  private final int maxHeaders;
  private final java.time.Duration maxDeliveryDelay;

  private Capabilities(Builder b) {
    this.orderedByKey = b.orderedByKey;
    this.replay = b.replay;
    this.replayFromTimestamp = b.replayFromTimestamp;
    this.replayFromOffset = b.replayFromOffset;
    this.durable = b.durable;
    this.nativeDelayedRetry = b.nativeDelayedRetry;
    this.mayDuplicate = b.mayDuplicate;
    this.competingConsumers = b.competingConsumers;
    this.uncountedGiveBack = b.uncountedGiveBack;
    this.lagAccuracy = b.lagAccuracy;
    this.maxPayloadBytes = b.maxPayloadBytes;
    this.maxHeaders = b.maxHeaders;
    this.maxDeliveryDelay = b.maxDeliveryDelay;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder newBuilder() {
    return new Builder()
        .orderedByKey(orderedByKey)
        .replay(replay)
        .replayFromTimestamp(replayFromTimestamp)
        .replayFromOffset(replayFromOffset)
        .durable(durable)
        .nativeDelayedRetry(nativeDelayedRetry)
        .mayDuplicate(mayDuplicate)
        .competingConsumers(competingConsumers)
        .uncountedGiveBack(uncountedGiveBack)
        .lagAccuracy(lagAccuracy)
        .maxPayloadBytes(maxPayloadBytes)
        .maxHeaders(maxHeaders)
        .maxDeliveryDelay(maxDeliveryDelay);
  }

  /** {@link Ordering#KEY} is honoured across members of a group and across retries. */
  public boolean orderedByKey() {
    return orderedByKey;
  }

  /**
   * A new group can start from {@link StartFrom#EARLIEST} and see messages published before it
   * existed.
   */
  public boolean replay() {
    return replay;
  }

  /**
   * A new group can start from {@link StartFrom#timestamp(java.time.Instant)}: the first message at
   * or after an instant in each partition of the topic. Absent unless declared.
   */
  public boolean replayFromTimestamp() {
    return replayFromTimestamp;
  }

  /**
   * A new group can start from {@link StartFrom#offset(long)} in each partition, and publish
   * receipts give positions as {@code "<partition>@<offset>"} or {@code "<offset>"}. Absent unless
   * declared.
   */
  public boolean replayFromOffset() {
    return replayFromOffset;
  }

  /** A confirmed publish survives a restart of the process (or broker) that holds the data. */
  public boolean durable() {
    return durable;
  }

  /**
   * The backend holds delayed retries itself (releasing the message back to the broker with a
   * delay), so a waiting retry does not occupy the subscriber. Without it, the shared runtime keeps
   * the message and retries in place. Either way the attempt count and the backoff lower bound are
   * the same.
   */
  public boolean nativeDelayedRetry() {
    return nativeDelayedRetry;
  }

  /** A message may be delivered more than once even when no handler failed and no member died. */
  public boolean mayDuplicate() {
    return mayDuplicate;
  }

  /**
   * Members of one group share its work: with several members subscribed, each handles part of the
   * messages. When absent, one member at a time handles everything (the others are hot standbys
   * that take over when it leaves or dies) — as with queues that allow a single active consumer.
   * Each message is still handled by one member.
   */
  public boolean competingConsumers() {
    return competingConsumers;
  }

  /**
   * A delivery that a closing member gives back without a handler having started it (queued, or
   * waiting behind an earlier message of its key) does not count as an attempt, so members closing
   * one after another never use up a message's attempts unseen. When absent, such a delivery
   * counts, as one to a member that died does everywhere.
   */
  public boolean uncountedGiveBack() {
    return uncountedGiveBack;
  }

  /**
   * How exact {@link Polybus#lag(String, String)} is on this backend; {@code NONE} (the default)
   * when the backend reports no lag.
   */
  public ConsumerLag.Accuracy lagAccuracy() {
    return lagAccuracy;
  }

  /** The largest payload accepted, in bytes. */
  public int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  /** The most user headers one message may carry. */
  public int maxHeaders() {
    return maxHeaders;
  }

  /**
   * The longest delay a message may ask for with {@link Message.Builder#deliverAt}; {@link
   * java.time.Duration#ZERO} (the default) when the backend cannot delay delivery, in which case
   * publishing a message whose deliver-at time is still ahead fails with {@link
   * ConfigurationException}.
   */
  public java.time.Duration maxDeliveryDelay() {
    return maxDeliveryDelay;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Capabilities)) {
      return false;
    }
    Capabilities c = (Capabilities) o;
    return orderedByKey == c.orderedByKey
        && replay == c.replay
        && replayFromTimestamp == c.replayFromTimestamp
        && replayFromOffset == c.replayFromOffset
        && durable == c.durable
        && nativeDelayedRetry == c.nativeDelayedRetry
        && mayDuplicate == c.mayDuplicate
        && competingConsumers == c.competingConsumers
        && uncountedGiveBack == c.uncountedGiveBack
        && lagAccuracy == c.lagAccuracy
        && maxPayloadBytes == c.maxPayloadBytes
        && maxHeaders == c.maxHeaders
        && maxDeliveryDelay.equals(c.maxDeliveryDelay);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        orderedByKey,
        replay,
        replayFromTimestamp,
        replayFromOffset,
        durable,
        nativeDelayedRetry,
        mayDuplicate,
        competingConsumers,
        uncountedGiveBack,
        lagAccuracy,
        maxPayloadBytes,
        maxHeaders,
        maxDeliveryDelay);
  }

  @Override
  public String toString() {
    return "Capabilities{orderedByKey="
        + orderedByKey
        + ", replay="
        + replay
        + ", replayFromTimestamp="
        + replayFromTimestamp
        + ", replayFromOffset="
        + replayFromOffset
        + ", durable="
        + durable
        + ", nativeDelayedRetry="
        + nativeDelayedRetry
        + ", mayDuplicate="
        + mayDuplicate
        + ", competingConsumers="
        + competingConsumers
        + ", uncountedGiveBack="
        + uncountedGiveBack
        + ", lagAccuracy="
        + lagAccuracy
        + ", maxPayloadBytes="
        + maxPayloadBytes
        + ", maxHeaders="
        + maxHeaders
        + ", maxDeliveryDelay="
        + maxDeliveryDelay
        + "}";
  }

  /**
   * Builds {@link Capabilities}. Guarantees start absent, except {@code competingConsumers}, the
   * norm, which starts present; limits start at 1 MiB and 64 headers. Not thread-safe.
   */
  public static final class Builder {
    private boolean orderedByKey;
    private boolean replay;
    private boolean replayFromTimestamp;
    private boolean replayFromOffset;
    private boolean durable;
    private boolean nativeDelayedRetry;
    private boolean mayDuplicate;
    private boolean competingConsumers = true;
    private boolean uncountedGiveBack;
    private ConsumerLag.Accuracy lagAccuracy = ConsumerLag.Accuracy.NONE;
    private int maxPayloadBytes = 1 << 20;
    private int maxHeaders = 64;
    private java.time.Duration maxDeliveryDelay = java.time.Duration.ZERO;

    private Builder() {}

    public Builder orderedByKey(boolean v) {
      this.orderedByKey = v;
      return this;
    }

    public Builder replay(boolean v) {
      this.replay = v;
      return this;
    }

    public Builder replayFromTimestamp(boolean v) {
      this.replayFromTimestamp = v;
      return this;
    }

    public Builder replayFromOffset(boolean v) {
      this.replayFromOffset = v;
      return this;
    }

    public Builder durable(boolean v) {
      this.durable = v;
      return this;
    }

    public Builder nativeDelayedRetry(boolean v) {
      this.nativeDelayedRetry = v;
      return this;
    }

    public Builder mayDuplicate(boolean v) {
      this.mayDuplicate = v;
      return this;
    }

    public Builder competingConsumers(boolean v) {
      this.competingConsumers = v;
      return this;
    }

    public Builder uncountedGiveBack(boolean v) {
      this.uncountedGiveBack = v;
      return this;
    }

    public Builder lagAccuracy(ConsumerLag.Accuracy v) {
      this.lagAccuracy = java.util.Objects.requireNonNull(v, "lagAccuracy");
      return this;
    }

    public Builder maxPayloadBytes(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("maxPayloadBytes must be positive, was " + v);
      }
      this.maxPayloadBytes = v;
      return this;
    }

    /** At least 20: the TCK and the dead-letter headers rely on it. */
    public Builder maxHeaders(int v) {
      if (v < 20) {
        throw new IllegalArgumentException("maxHeaders must be at least 20, was " + v);
      }
      this.maxHeaders = v;
      return this;
    }

    /** Not negative; {@link java.time.Duration#ZERO} declares delayed delivery absent. */
    public Builder maxDeliveryDelay(java.time.Duration v) {
      java.util.Objects.requireNonNull(v, "maxDeliveryDelay");
      if (v.isNegative()) {
        throw new IllegalArgumentException("maxDeliveryDelay must not be negative, was " + v);
      }
      this.maxDeliveryDelay = v;
      return this;
    }

    public Capabilities build() {
      return new Capabilities(this);
    }
  }
}
