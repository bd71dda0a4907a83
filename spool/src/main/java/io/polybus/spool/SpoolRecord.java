package io.polybus.spool;

import io.polybus.Message;
import io.polybus.spi.Messages;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The record one spooled message becomes in the spool's log, and back.
 *
 * <p>The log record has the message's id and timestamp, the spool's ordering key (below), no
 * headers, and this payload:
 *
 * <pre>
 *   0  u8      version (1)
 *   1  u8      flags: bit 0 set when the message has a key
 *   2  u16     n, the destination topic's length in bytes (ASCII: a portable name)
 *   4  n       the destination topic
 *      i64     when it was spooled, epoch milliseconds
 *      u16     h, the number of headers
 *      h times u16 name length, name (UTF-8), i32 value length, value (UTF-8)
 *      rest    the message's payload
 * </pre>
 *
 * The headers travel in the payload rather than as the record's headers so that a message the
 * destination accepts always fits the log: its key and headers add up to at most {@link
 * Message#MAX_METADATA_BYTES}, and the log record's metadata is the key alone. The ordering key is
 * the message's key, or for a message without a key {@value #KEYLESS_PREFIX} plus the topic, so
 * that the forwarder (subscribed with {@code Ordering.KEY}) keeps the order of each key, and of the
 * keyless messages of each topic. One key shared by two topics is forwarded in one order across
 * both: stricter than needed, never looser.
 */
final class SpoolRecord {
  static final String KEYLESS_PREFIX = "polybus-spool-keyless:";
  private static final int VERSION = 1;
  private static final int HAS_KEY = 1;

  /** The largest the layout around a payload can be: the log's maxPayload is raised by this. */
  static final int MAX_OVERHEAD = 64 * 1024;

  final String topic;
  final Message message;
  final long spooledAtMillis;

  /** The size of the encoded payload; what the spool's byte bound counts. */
  final int size;

  private SpoolRecord(String topic, Message message, long spooledAtMillis, int size) {
    this.topic = topic;
    this.message = message;
    this.spooledAtMillis = spooledAtMillis;
    this.size = size;
  }

  /** The ordering key of {@code message} published to {@code topic}, in the spool's log. */
  static String logKey(String topic, String key) {
    return key != null ? key : KEYLESS_PREFIX + topic;
  }

  /** The bytes {@link #encode} makes of a message, without making them. */
  static int encodedSize(String topic, Message m) {
    int n = 2 + 2 + topic.length() + 8 + 2;
    for (Map.Entry<String, String> h : m.headers().entrySet()) {
      n += 2 + Messages.utf8Length(h.getKey()) + 4 + Messages.utf8Length(h.getValue());
    }
    return n + m.payloadSize();
  }

  /** The log record for {@code m} published to {@code topic}, spooled at {@code now}. */
  static Message encode(String topic, Message m, long now) {
    Map<String, String> headers = m.headers();
    byte[][] names = new byte[headers.size()][];
    byte[][] values = new byte[headers.size()][];
    int i = 0;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      names[i] = h.getKey().getBytes(StandardCharsets.UTF_8);
      values[i] = h.getValue().getBytes(StandardCharsets.UTF_8);
      i++;
    }
    byte[] t = topic.getBytes(StandardCharsets.US_ASCII);
    byte[] payload = Messages.payloadNoCopy(m);
    int size = 2 + 2 + t.length + 8 + 2 + payload.length;
    for (int j = 0; j < names.length; j++) {
      size += 2 + names[j].length + 4 + values[j].length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put((byte) VERSION).put((byte) (m.key() != null ? HAS_KEY : 0));
    b.putShort((short) t.length).put(t);
    b.putLong(now);
    b.putShort((short) names.length);
    for (int j = 0; j < names.length; j++) {
      b.putShort((short) names[j].length).put(names[j]);
      b.putInt(values[j].length).put(values[j]);
    }
    b.put(payload);
    return Messages.restore(
        m.id(), logKey(topic, m.key()), b.array(), Map.of(), m.timestampMillis());
  }

  /**
   * The spooled message a log record holds, exactly as it was published (id, key, headers in order,
   * timestamp, payload).
   *
   * @throws IllegalArgumentException if the record is not one this version wrote
   */
  static SpoolRecord decode(Message record) {
    byte[] bytes = Messages.payloadNoCopy(record);
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      int version = b.get() & 0xFF;
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown spool record version " + version);
      }
      boolean hasKey = (b.get() & HAS_KEY) != 0;
      String topic = string(b, b.getShort() & 0xFFFF, StandardCharsets.US_ASCII);
      long spooledAt = b.getLong();
      int count = b.getShort() & 0xFFFF;
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        String name = string(b, b.getShort() & 0xFFFF, StandardCharsets.UTF_8);
        int valueLength = b.getInt();
        if (valueLength < 0) {
          throw new IllegalArgumentException("negative header length");
        }
        headers.put(name, string(b, valueLength, StandardCharsets.UTF_8));
      }
      byte[] payload = new byte[b.remaining()];
      b.get(payload);
      Message m =
          Messages.restore(
              record.id(),
              hasKey ? record.key() : null,
              payload,
              headers,
              record.timestampMillis());
      return new SpoolRecord(topic, m, spooledAt, bytes.length);
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("spool record " + record.id() + " is cut short", e);
    }
  }

  private static String string(ByteBuffer b, int length, java.nio.charset.Charset cs) {
    if (length > b.remaining()) {
      throw new java.nio.BufferUnderflowException();
    }
    String s = new String(bytes(b, length), cs);
    return s;
  }

  private static byte[] bytes(ByteBuffer b, int length) {
    byte[] out = new byte[length];
    b.get(out);
    return out;
  }
}
