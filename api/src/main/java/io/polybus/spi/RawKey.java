package io.polybus.spi;

import java.util.Arrays;

/**
 * A message key as the bytes a broker delivered, for {@link InboundRecord#orderingKey()}: equal
 * when the bytes are equal, so that the runtime can keep one key's deliveries in order without
 * decoding the key (or the message) on its hot path. For UTF-8 keys, equal bytes and equal strings
 * are the same thing; bytes that are not valid UTF-8 are ordered by their bytes.
 *
 * <p>Immutable and thread-safe as long as nobody writes to the array: the backend hands over an
 * array it no longer changes (for example the key array of a fetched Kafka record) and it is not
 * copied.
 */
public final class RawKey {
  private final byte[] bytes;
  private final int hash;

  private RawKey(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  /**
   * Wraps {@code bytes} without copying them; null for a null or empty array, which is a keyless
   * record (Polybus has no empty key: {@link Messages#restore} reads one as none, so its records
   * are not kept in one order).
   */
  public static RawKey of(byte[] bytes) {
    return bytes == null || bytes.length == 0 ? null : new RawKey(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawKey
        && ((RawKey) o).hash == hash
        && Arrays.equals(((RawKey) o).bytes, bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "RawKey[" + bytes.length + " bytes]";
  }
}
