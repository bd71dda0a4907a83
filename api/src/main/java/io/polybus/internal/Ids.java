package io.polybus.internal;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Not API. Generates message ids: 26 characters of Crockford base32 (the ULID layout), a 48-bit
 * millisecond timestamp followed by 80 bits that are random per process and then counted up, so ids
 * are unique, sort by creation time, and cost no lock and no random draw per id.
 */
public final class Ids {
  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
  // 80 low bits: 16 random bits fixed per process, then a 64-bit counter seeded at random.
  private static final int PROCESS_BITS;
  private static final AtomicLong COUNTER;

  static {
    SecureRandom r = new SecureRandom();
    PROCESS_BITS = r.nextInt() & 0xFFFF;
    COUNTER = new AtomicLong(r.nextLong());
  }

  private Ids() {}

  public static String next(long epochMillis) {
    long low = COUNTER.getAndIncrement();
    char[] c = new char[26];
    long ts = epochMillis & 0xFFFF_FFFF_FFFFL;
    // 48 bits of time over the first 10 characters (50 bits, the top 2 are zero).
    for (int i = 9; i >= 0; i--) {
      c[i] = ALPHABET[(int) (ts & 31)];
      ts >>>= 5;
    }
    // 80 bits of PROCESS_BITS:counter over the last 16 characters.
    long hi = PROCESS_BITS; // 16 bits
    for (int i = 25; i >= 10; i--) {
      c[i] = ALPHABET[(int) (low & 31)];
      low = (low >>> 5) | ((hi & 31) << 59);
      hi >>>= 5;
    }
    return new String(c);
  }
}
