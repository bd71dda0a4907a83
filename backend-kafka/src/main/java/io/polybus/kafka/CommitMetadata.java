package io.polybus.kafka;

import java.util.TreeMap;

/**
 * The delivery state of one partition's records from its committed offset on, carried in the
 * metadata string of the offset commit so that it survives a rebalance, a close and a restart.
 *
 * <p>A commit can only say "everything before offset O is done". Records at and after O may have
 * been acked out of order (other keys finish first) or delivered without being settled; both must
 * survive a move of the partition, or acked records would be redelivered and attempt counts would
 * restart at 1. The metadata lists them, run-length encoded, one value per offset starting at O:
 *
 * <pre>
 *   metadata = "pb1:" run *( "," run )
 *   run      = value [ "*" count ]        ; count consecutive offsets with that value (1 when omitted)
 *   value    = "a"                         ; acked (or no record at that offset: compacted, a transaction marker)
 *            / 1*DIGIT                     ; deliveries so far (0: never delivered)
 * </pre>
 *
 * Offsets past the last run were never delivered. Example: committed offset 100 with {@code
 * pb1:1,a*2,0,3} means 100 delivered once, 101 and 102 acked, 103 never delivered, 104 delivered
 * three times, 105 on never delivered. The string is capped at {@link #MAX_CHARS} (brokers accept
 * 4096 bytes by default, {@code offset.metadata.max.bytes}); state past the cap is dropped, so
 * those records count from 1 again and acked ones among them are redelivered. Metadata that does
 * not start with {@code pb1:} (another application's) is ignored.
 */
final class CommitMetadata {
  static final String PREFIX = "pb1:";
  static final int MAX_CHARS = 3900;

  /** The value of an acked offset in a parsed map. */
  static final int ACKED = -1;

  private CommitMetadata() {}

  /**
   * Offset to {@link #ACKED} or a delivery count above zero; offsets not in the map were never
   * delivered.
   */
  static TreeMap<Long, Integer> parse(long base, String metadata) {
    TreeMap<Long, Integer> out = new TreeMap<>();
    if (metadata == null || !metadata.startsWith(PREFIX) || metadata.length() == PREFIX.length()) {
      return out;
    }
    long offset = base;
    try {
      for (String run : metadata.substring(PREFIX.length()).split(",")) {
        int star = run.indexOf('*');
        String v = star < 0 ? run : run.substring(0, star);
        long count = star < 0 ? 1 : Long.parseLong(run.substring(star + 1));
        int value = v.equals("a") ? ACKED : Integer.parseInt(v);
        if (count < 1 || count > 1_000_000 || value < ACKED) {
          return new TreeMap<>(); // not ours after all: trust nothing of it
        }
        if (value != 0) {
          for (long i = 0; i < count; i++) {
            out.put(offset + i, value);
          }
        }
        offset += count;
      }
    } catch (NumberFormatException e) {
      return new TreeMap<>();
    }
    return out;
  }

  /**
   * How many offsets in {@code [from, to)} the metadata of a commit at {@code base} marks acked,
   * without expanding it: what the consumer lag subtracts from {@code end - committed}. Metadata
   * {@link #parse} would not trust counts none.
   */
  static long countAcked(long base, String metadata, long from, long to) {
    if (metadata == null || !metadata.startsWith(PREFIX) || metadata.length() == PREFIX.length()) {
      return 0;
    }
    long offset = base;
    long acked = 0;
    try {
      for (String run : metadata.substring(PREFIX.length()).split(",")) {
        int star = run.indexOf('*');
        String v = star < 0 ? run : run.substring(0, star);
        long count = star < 0 ? 1 : Long.parseLong(run.substring(star + 1));
        int value = v.equals("a") ? ACKED : Integer.parseInt(v);
        if (count < 1 || count > 1_000_000 || value < ACKED) {
          return 0; // not ours after all, as in parse
        }
        if (value == ACKED) {
          acked += Math.max(0, Math.min(to, offset + count) - Math.max(from, offset));
        }
        offset += count;
      }
    } catch (NumberFormatException e) {
      return 0;
    }
    return acked;
  }

  /** Builds metadata from the values of consecutive offsets. Not thread-safe. */
  static final class Encoder {
    private final StringBuilder sb = new StringBuilder(64).append(PREFIX);
    private int value = Integer.MIN_VALUE;
    private long count;

    /** Length of {@link #sb} up to the last run that was not all zeros. */
    private int meaningfulLength = PREFIX.length();

    private boolean full;

    /**
     * The next {@code n} offsets all have {@code v} ({@link #ACKED} or a delivery count, 0 for
     * none).
     */
    void add(int v, long n) {
      if (n <= 0 || full) {
        return;
      }
      if (v == value) {
        count += n;
        return;
      }
      flush();
      value = v;
      count = n;
    }

    private void flush() {
      if (count == 0) {
        return;
      }
      int before = sb.length();
      if (sb.length() > PREFIX.length()) {
        sb.append(',');
      }
      sb.append(value == ACKED ? "a" : Integer.toString(value));
      if (count > 1) {
        sb.append('*').append(count);
      }
      if (sb.length() > MAX_CHARS) {
        sb.setLength(before);
        full = true;
      } else if (value != 0) {
        meaningfulLength = sb.length();
      }
      count = 0;
    }

    /** The metadata, or an empty string when every offset was never delivered. */
    String finish() {
      flush();
      return meaningfulLength == PREFIX.length() ? "" : sb.substring(0, meaningfulLength);
    }
  }
}
