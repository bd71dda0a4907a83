package io.polybus.nativelog.internal;

import java.nio.charset.StandardCharsets;

/**
 * MurmurHash3 (x86, 32-bit, seed 0) of a key's UTF-8 bytes: stable across JVMs and versions, unlike
 * {@link String#hashCode()}'s spread, so every process maps a key to the same partition.
 */
final class Murmur3 {
  private Murmur3() {}

  static int hash(String key) {
    byte[] data = key.getBytes(StandardCharsets.UTF_8);
    return hash(data, 0, data.length);
  }

  /** The same hash over {@code len} bytes of {@code data} from {@code off}. */
  static int hash(byte[] data, int off, int len) {
    int h = 0;
    int i = off;
    int end = off + len;
    for (; i + 4 <= end; i += 4) {
      int k =
          (data[i] & 0xff)
              | (data[i + 1] & 0xff) << 8
              | (data[i + 2] & 0xff) << 16
              | (data[i + 3] & 0xff) << 24;
      k *= 0xcc9e2d51;
      k = Integer.rotateLeft(k, 15);
      k *= 0x1b873593;
      h ^= k;
      h = Integer.rotateLeft(h, 13);
      h = h * 5 + 0xe6546b64;
    }
    int k = 0;
    switch (end - i) {
      case 3:
        k ^= (data[i + 2] & 0xff) << 16;
      // fall through
      case 2:
        k ^= (data[i + 1] & 0xff) << 8;
      // fall through
      case 1:
        k ^= data[i] & 0xff;
        k *= 0xcc9e2d51;
        k = Integer.rotateLeft(k, 15);
        k *= 0x1b873593;
        h ^= k;
        break;
      default:
        break;
    }
    h ^= len;
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }
}
