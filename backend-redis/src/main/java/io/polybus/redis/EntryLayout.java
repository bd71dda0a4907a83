package io.polybus.redis;

import io.polybus.Message;
import io.polybus.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a message is written as the fields of a stream entry, and read back.
 *
 * <pre>
 *   XADD &lt;stream&gt; * payload &lt;bytes&gt; id &lt;message id&gt; key &lt;key&gt; ts &lt;millis&gt; h:&lt;name&gt; &lt;value&gt; ...
 *
 *   field        value                                   when absent on read
 *   payload      the payload, binary-safe                empty payload
 *   id           the Polybus message id                  "redis-" + the entry id, e.g. redis-1700000000000-0
 *   key          the ordering key, UTF-8                 no key
 *   ts           creation time, decimal epoch millis     the millisecond part of the entry id
 *   h:&lt;name&gt;     one header per field, UTF-8, in order   -
 * </pre>
 *
 * Any other field is ignored, so another producer may add its own. Field names and text values are
 * UTF-8. Stateless.
 */
final class EntryLayout {
  static final byte[] PAYLOAD = bytes("payload");
  static final byte[] ID = bytes("id");
  static final byte[] KEY = bytes("key");
  static final byte[] TIMESTAMP = bytes("ts");
  static final String HEADER_PREFIX = "h:";
  private static final byte[] HEADER_PREFIX_BYTES = bytes(HEADER_PREFIX);

  private EntryLayout() {}

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** The field/value pairs of {@code m}, appended to {@code out}. */
  static void appendFields(Message m, List<byte[]> out) {
    out.add(PAYLOAD);
    out.add(Messages.payloadNoCopy(m));
    out.add(ID);
    out.add(bytes(m.id()));
    if (m.key() != null) {
      out.add(KEY);
      out.add(bytes(m.key()));
    }
    out.add(TIMESTAMP);
    out.add(bytes(Long.toString(m.timestampMillis())));
    for (Map.Entry<String, String> h : m.headers().entrySet()) {
      out.add(bytes(HEADER_PREFIX + h.getKey()));
      out.add(bytes(h.getValue()));
    }
  }

  /**
   * {@code parts} as one byte string of {@code <length>:<bytes>} items, which the release script
   * ({@link Scripts#RELEASE_SCHEDULED}) splits again: binary-safe, and needs no Lua library.
   */
  static byte[] pack(List<byte[]> parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(bytes(p.length + ":"));
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /**
   * Rebuilds a message from an entry id and its flat field/value list (as Redis returns it);
   * tolerant of gaps.
   */
  static Message read(String entryId, List<?> fields) {
    byte[] payload = new byte[0];
    String id = null;
    String key = null;
    long ts = -1;
    Map<String, String> headers = null; // most messages have none
    if (fields != null) {
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        byte[] name = (byte[]) fields.get(i);
        byte[] value = (byte[]) fields.get(i + 1);
        if (Arrays.equals(name, PAYLOAD)) {
          payload = value;
        } else if (Arrays.equals(name, ID)) {
          id = string(value);
        } else if (Arrays.equals(name, KEY)) {
          key = string(value);
        } else if (Arrays.equals(name, TIMESTAMP)) {
          ts = parseLong(string(value), -1);
        } else if (startsWith(name, HEADER_PREFIX_BYTES)) {
          if (headers == null) {
            headers = new LinkedHashMap<>();
          }
          headers.put(string(name).substring(HEADER_PREFIX.length()), string(value));
        }
      }
    }
    if (id == null || id.isEmpty()) {
      id = "redis-" + entryId;
    }
    if (ts < 0) {
      int dash = entryId.indexOf('-');
      ts = parseLong(dash < 0 ? entryId : entryId.substring(0, dash), 0);
    }
    return Messages.restore(id, key, payload, headers == null ? Map.of() : headers, ts);
  }

  /** A list of the raw values, typed for the Jedis calls that take {@code byte[]...}. */
  static byte[][] array(List<byte[]> list) {
    return list.toArray(new byte[0][]);
  }

  static List<byte[]> list(byte[]... parts) {
    return new ArrayList<>(Arrays.asList(parts));
  }

  private static boolean startsWith(byte[] a, byte[] prefix) {
    if (a.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (a[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static long parseLong(String s, long fallback) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
