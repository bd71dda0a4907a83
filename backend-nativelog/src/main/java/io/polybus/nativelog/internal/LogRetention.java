package io.polybus.nativelog.internal;

/**
 * Not API. What retention deletes: whole sealed segments whose newest record is older than {@code
 * maxAgeMillis}, and the oldest sealed segments of a partition whose segments take more than {@code
 * maxBytes}; 0 means no limit. Checked every {@code checkIntervalMillis} on the topics the process
 * has open. Immutable.
 */
public record LogRetention(long maxAgeMillis, long maxBytes, long checkIntervalMillis) {
  /** Keeps everything. */
  public static final LogRetention FOREVER = new LogRetention(0, 0, 60_000);

  boolean limited() {
    return maxAgeMillis > 0 || maxBytes > 0;
  }
}
