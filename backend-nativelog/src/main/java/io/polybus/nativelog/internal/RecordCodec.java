package io.polybus.nativelog.internal;

import io.polybus.Message;
import io.polybus.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The body of a frame: a message without its timestamp (which the frame header carries).
 *
 * <pre>
 *   int idLength, id (UTF-8)
 *   int keyLength (-1: no key), key (UTF-8)
 *   int headerCount, then per header: int nameLength, name, int valueLength, value (UTF-8)
 *   int payloadLength, payload
 * </pre>
 *
 * Little-endian. Not thread-safe: one codec per writing or reading thread.
 */
final class RecordCodec {
  /**
   * The body is encoded after room for the frame header, so a segment can fill the header in and
   * copy once.
   */
  static final int BODY_START = SegmentDescriptor.FRAME_HEADER;

  private byte[] buf = new byte[512];
  private java.nio.ByteBuffer view =
      java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN);
  final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
  private int pos;

  /** Where the encoded key's UTF-8 bytes are in {@link #buf}; -1 for none. */
  private int keyStart;

  private int keyLength;

  /**
   * Encodes {@code m} into {@link #frame()} from {@link #BODY_START}; the body is {@link #length()}
   * bytes long until the next call.
   */
  void encode(Message m) {
    pos = BODY_START;
    string(m.id());
    String key = m.key();
    if (key == null) {
      int32(-1);
      keyStart = -1;
    } else {
      keyStart = pos + 4; // after the length
      string(key);
      keyLength = pos - keyStart;
    }
    Map<String, String> headers = m.headers();
    int32(headers.size());
    for (Map.Entry<String, String> e : headers.entrySet()) {
      string(e.getKey());
      string(e.getValue());
    }
    byte[] payload = Messages.payloadNoCopy(m);
    int32(payload.length);
    ensure(payload.length);
    System.arraycopy(payload, 0, buf, pos, payload.length);
    pos += payload.length;
  }

  /**
   * Uses {@code length} bytes of {@code body} as an opaque body instead of an encoded message: for
   * tools that measure or test the framing layer alone (framing, CRC32C, copy) without the message
   * encoding. Such a frame is not a message, so a consumer of the topic would skip it as corrupt;
   * never append one to a topic that is consumed.
   */
  void opaque(byte[] body, int offset, int length) {
    pos = BODY_START;
    keyStart = -1;
    ensure(length);
    System.arraycopy(body, offset, buf, pos, length);
    pos += length;
  }

  /**
   * The partition hash of the encoded message's key ({@link Murmur3} over its UTF-8 bytes, already
   * in the frame, so the key is not encoded twice); {@code Integer.MIN_VALUE} for a message without
   * a key.
   */
  int keyHash() {
    return keyStart < 0 ? Integer.MIN_VALUE : Murmur3.hash(buf, keyStart, keyLength);
  }

  /** The frame being built: header room, then the body. */
  byte[] frame() {
    return buf;
  }

  /** A little-endian view of {@link #frame()}. */
  java.nio.ByteBuffer view() {
    return view;
  }

  /** The body length. */
  int length() {
    return pos - BODY_START;
  }

  private void string(String s) {
    // Ids, keys and header names are ASCII almost always: copied char by char into the frame,
    // without the array String.getBytes allocates; the first other char falls back to it.
    int n = s.length();
    ensure(4 + n);
    int start = pos + 4;
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        break;
      }
      buf[start + i] = (byte) c;
      i++;
    }
    if (i == n) {
      int32(n);
      pos += n;
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    int32(b.length);
    ensure(b.length);
    System.arraycopy(b, 0, buf, pos, b.length);
    pos += b.length;
  }

  private void int32(int v) {
    ensure(4);
    buf[pos] = (byte) v;
    buf[pos + 1] = (byte) (v >>> 8);
    buf[pos + 2] = (byte) (v >>> 16);
    buf[pos + 3] = (byte) (v >>> 24);
    pos += 4;
  }

  private void ensure(int more) {
    if (pos + more > buf.length) {
      buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      view = java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }
  }

  /**
   * Decodes a body. The CRC was checked already, so a malformed body means a bug or a foreign
   * writer: it is reported as {@link CorruptLogException}, never as a half-built message.
   */
  static Message decode(byte[] b, int start, int length, long timestampMillis)
      throws CorruptLogException {
    Reader r = new Reader(b, start, start + length);
    String id = r.string();
    int keyLength = r.int32();
    String key = keyLength == -1 ? null : r.string(keyLength);
    int headerCount = r.headerCount();
    Map<String, String> headers =
        headerCount == 0 ? Map.of() : new LinkedHashMap<>(headerCount * 2);
    for (int i = 0; i < headerCount; i++) {
      headers.put(r.string(), r.string());
    }
    int payloadLength = r.int32();
    byte[] payload = r.bytes(payloadLength);
    if (r.pos != r.end) {
      throw new CorruptLogException("trailing bytes in a record body");
    }
    return Messages.restore(id, key, payload, headers, timestampMillis);
  }

  /**
   * Checks that {@code length} bytes of {@code b} from {@code start} are a well-formed body
   * (lengths, counts and the end where they say) without decoding anything, and returns the index
   * in {@code b} of the key's length field (the key's bytes follow it; a length of -1 is no key). A
   * body that passes decodes with {@link #decodeChecked} without fail.
   */
  static int check(byte[] b, int start, int length) throws CorruptLogException {
    Reader r = new Reader(b, start, start + length);
    r.skip(r.int32()); // id
    int keyField = r.pos;
    int keyLength = r.int32();
    if (keyLength != -1) {
      r.skip(keyLength);
    }
    int headerCount = r.headerCount();
    for (int i = 0; i < headerCount; i++) {
      r.skip(r.int32());
      r.skip(r.int32());
    }
    r.skip(r.int32()); // payload
    if (r.pos != r.end) {
      throw new CorruptLogException("trailing bytes in a record body");
    }
    return keyField;
  }

  /** Decodes a whole array that {@link #check} accepted. */
  static Message decodeChecked(byte[] body, long timestampMillis) {
    try {
      return decode(body, 0, body.length, timestampMillis);
    } catch (CorruptLogException e) {
      throw new IllegalStateException("a record body that passed its check does not decode", e);
    }
  }

  /** The little-endian int at {@code i}. */
  static int int32(byte[] b, int i) {
    return (b[i] & 0xff)
        | (b[i + 1] & 0xff) << 8
        | (b[i + 2] & 0xff) << 16
        | (b[i + 3] & 0xff) << 24;
  }

  private static final class Reader {
    final byte[] b;
    int pos;
    final int end;

    Reader(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    int int32() throws CorruptLogException {
      need(4);
      int v = RecordCodec.int32(b, pos);
      pos += 4;
      return v;
    }

    /** A header count, refused when negative or beyond what a message can carry. */
    int headerCount() throws CorruptLogException {
      int n = int32();
      if (n < 0 || n > 100_000) {
        throw new CorruptLogException("bad header count " + n);
      }
      return n;
    }

    String string() throws CorruptLogException {
      return string(int32());
    }

    void skip(int n) throws CorruptLogException {
      if (n < 0) {
        throw new CorruptLogException("negative length " + n);
      }
      need(n);
      pos += n;
    }

    String string(int n) throws CorruptLogException {
      if (n < 0) {
        throw new CorruptLogException("negative length " + n);
      }
      need(n);
      String s = new String(b, pos, n, StandardCharsets.UTF_8);
      pos += n;
      return s;
    }

    byte[] bytes(int n) throws CorruptLogException {
      if (n < 0) {
        throw new CorruptLogException("negative length " + n);
      }
      need(n);
      byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + n);
      pos += n;
      return out;
    }

    private void need(int n) throws CorruptLogException {
      if (n > end - pos) {
        throw new CorruptLogException("record body ends early");
      }
    }
  }
}
