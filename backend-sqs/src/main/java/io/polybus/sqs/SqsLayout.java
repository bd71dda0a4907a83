package io.polybus.sqs;

import io.polybus.Message;
import io.polybus.spi.Messages;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * How a Polybus message travels as an SQS message. Stateless.
 *
 * <h2>Body</h2>
 *
 * The payload itself when it is UTF-8 text that SQS can carry (the characters SQS allows: tab, line
 * feed and {@code U+0020} upward except surrogates and {@code U+FFFE}/{@code U+FFFF}; a carriage
 * return is encoded too, since XML-based clients would normalise it). Otherwise the body is the
 * payload in base64 and the attribute {@code polybus.enc} says {@code base64}; an empty payload
 * (SQS rejects empty bodies) is the body {@code .} with {@code polybus.enc = empty}.
 *
 * <h2>Attributes</h2>
 *
 * <table>
 *   <caption>message attributes</caption>
 *   <tr><td>{@code polybus.id}</td><td>the Polybus id (String)</td></tr>
 *   <tr><td>{@code polybus.key}</td><td>the key, absent without one (String)</td></tr>
 *   <tr><td>{@code polybus.ts}</td><td>the timestamp, epoch milliseconds (Number)</td></tr>
 *   <tr><td>{@code polybus.enc}</td><td>{@code base64} or {@code empty}, absent for a text body</td></tr>
 *   <tr><td>{@code polybus.attempts}</td><td>deliveries made before this SQS message existed, absent when none
 *   (Number): only on the copy a closing member sends of a message no handler started
 *   ({@link SqsConsumer#close()}), since SQS cannot lower the {@code ApproximateReceiveCount} of the original</td></tr>
 *   <tr><td><i>header name</i></td><td>one String attribute per header, when they fit (below)</td></tr>
 *   <tr><td>{@code polybus.headers}</td><td>all headers packed, when they do not fit (Binary)</td></tr>
 * </table>
 *
 * A string SQS cannot carry (a control character in an id, key or header value) travels as a Binary
 * attribute of its UTF-8 bytes. SQS allows 10 attributes per message and keeps no order among them,
 * so headers are sent one attribute each only when all of them fit in the attributes left (a copy
 * counts {@code polybus.attempts} among the taken ones), every name is a valid SQS attribute name
 * that does not start with {@code polybus.}, no value is empty, and the names are in ascending
 * order (a reader sorts attributes by name, which then restores the insertion order). Otherwise
 * every header goes into {@code polybus.headers}: for each header in order, the name's UTF-8 length
 * (4 bytes, big-endian), the name, the value's UTF-8 length and the value.
 *
 * <h2>Reading</h2>
 *
 * Messages sent by other SQS clients are read too: without {@code polybus.id} the id is {@code
 * sqs-<SQS MessageId>} (the same on every redelivery); without {@code polybus.ts} the timestamp is
 * SQS's {@code SentTimestamp}; without {@code polybus.key} the key is the FIFO {@code
 * MessageGroupId} when there is one; every attribute not named {@code polybus.*} is a header
 * (String and Number values as text, Binary values in base64), sorted by name.
 */
final class SqsLayout {
  static final String ID = "polybus.id";
  static final String KEY = "polybus.key";
  static final String TS = "polybus.ts";
  static final String ENC = "polybus.enc";
  static final String HEADERS = "polybus.headers";
  static final String ATTEMPTS = "polybus.attempts";
  static final String RESERVED_PREFIX = "polybus.";
  static final int MAX_ATTRIBUTES = 10;
  static final String EMPTY_BODY = ".";

  private static final String STRING = "String";
  private static final String NUMBER = "Number";
  private static final String BINARY = "Binary";

  private SqsLayout() {}

  /** One message ready to send: its body, attributes and the size SQS counts. */
  record Encoded(String body, Map<String, MessageAttributeValue> attributes, int size) {}

  static Encoded encode(Message m) {
    return encode(m, 0);
  }

  /**
   * Encodes {@code m} carrying {@code attempts} deliveries already made ({@link #ATTEMPTS}, absent
   * when 0). The layout of the headers is decided again for the room left, so a copy of a message
   * whose headers filled every attribute packs them instead; a reader sees the same message either
   * way.
   */
  static Encoded encode(Message m, int attempts) {
    byte[] payload = Messages.payloadNoCopy(m);
    String body;
    String enc = null;
    if (payload.length == 0) {
      body = EMPTY_BODY;
      enc = "empty";
    } else {
      body = asSqsText(payload);
      if (body == null) {
        body = Base64.getEncoder().encodeToString(payload);
        enc = "base64";
      }
    }
    Map<String, MessageAttributeValue> a = new LinkedHashMap<>(MAX_ATTRIBUTES * 2);
    int size = Messages.utf8Length(body);
    size += put(a, ID, text(m.id()));
    if (m.key() != null) {
      size += put(a, KEY, text(m.key()));
    }
    size +=
        put(
            a,
            TS,
            MessageAttributeValue.builder()
                .dataType(NUMBER)
                .stringValue(Long.toString(m.timestampMillis()))
                .build());
    if (enc != null) {
      size += put(a, ENC, text(enc));
    }
    if (attempts > 0) {
      size +=
          put(
              a,
              ATTEMPTS,
              MessageAttributeValue.builder()
                  .dataType(NUMBER)
                  .stringValue(Integer.toString(attempts))
                  .build());
    }
    Map<String, String> headers = m.headers();
    if (!headers.isEmpty()) {
      if (fitsUnpacked(headers, MAX_ATTRIBUTES - a.size())) {
        for (Map.Entry<String, String> h : headers.entrySet()) {
          size += put(a, h.getKey(), text(h.getValue()));
        }
      } else {
        size +=
            put(
                a,
                HEADERS,
                MessageAttributeValue.builder()
                    .dataType(BINARY)
                    .binaryValue(SdkBytes.fromByteArrayUnsafe(pack(headers)))
                    .build());
      }
    }
    return new Encoded(body, a, size);
  }

  private static int put(
      Map<String, MessageAttributeValue> a, String name, MessageAttributeValue v) {
    a.put(name, v);
    // What SQS counts against the message size: name, type and value.
    int n = Messages.utf8Length(name) + v.dataType().length();
    return n
        + (v.binaryValue() != null
            ? v.binaryValue().asByteArrayUnsafe().length
            : Messages.utf8Length(v.stringValue()));
  }

  private static MessageAttributeValue text(String s) {
    if (!s.isEmpty() && isSqsText(s)) {
      return MessageAttributeValue.builder().dataType(STRING).stringValue(s).build();
    }
    return MessageAttributeValue.builder()
        .dataType(BINARY)
        .binaryValue(SdkBytes.fromByteArrayUnsafe(s.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  private static boolean fitsUnpacked(Map<String, String> headers, int room) {
    if (headers.size() > room) {
      return false;
    }
    String previous = null;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      String value = h.getValue();
      if (!isAttributeName(name)
          || value.isEmpty()
          || !isSqsText(value)
          || (previous != null && previous.compareTo(name) >= 0)) {
        return false;
      }
      previous = name;
    }
    return true;
  }

  /**
   * SQS attribute names: up to 256 of {@code [A-Za-z0-9_.-]}, no leading, trailing or doubled
   * period, not starting with {@code AWS.} or {@code Amazon.}; and not Polybus's own {@code
   * polybus.} names.
   */
  static boolean isAttributeName(String name) {
    if (name.isEmpty()
        || name.length() > 256
        || name.startsWith(".")
        || name.endsWith(".")
        || name.contains("..")
        || name.regionMatches(true, 0, "aws.", 0, 4)
        || name.regionMatches(true, 0, "amazon.", 0, 7)
        || name.regionMatches(true, 0, RESERVED_PREFIX, 0, RESERVED_PREFIX.length())) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || c == '_'
          || c == '-'
          || c == '.')) {
        return false;
      }
    }
    return true;
  }

  static byte[] pack(Map<String, String> headers) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 * headers.size());
    for (Map.Entry<String, String> h : headers.entrySet()) {
      writeChunk(out, h.getKey().getBytes(StandardCharsets.UTF_8));
      writeChunk(out, h.getValue().getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  private static void writeChunk(ByteArrayOutputStream out, byte[] b) {
    out.write(b.length >>> 24);
    out.write(b.length >>> 16);
    out.write(b.length >>> 8);
    out.write(b.length);
    out.write(b, 0, b.length);
  }

  static void unpack(byte[] packed, Map<String, String> into) {
    ByteBuffer buf = ByteBuffer.wrap(packed);
    while (buf.remaining() >= 4) {
      String name = readChunk(buf);
      String value = readChunk(buf);
      into.put(name, value);
    }
  }

  private static String readChunk(ByteBuffer buf) {
    byte[] b = new byte[buf.getInt()];
    buf.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  /**
   * Rebuilds a message from what SQS returned.
   *
   * @param sqsMessageId SQS's id of the message, the fallback id of messages from other clients
   * @param sentTimestamp SQS's {@code SentTimestamp}, or -1
   * @param groupId the FIFO {@code MessageGroupId}, or null
   */
  static Message decode(
      String body,
      Map<String, MessageAttributeValue> attributes,
      String sqsMessageId,
      long sentTimestamp,
      String groupId) {
    String id = null;
    String key = null;
    long ts = sentTimestamp >= 0 ? sentTimestamp : System.currentTimeMillis();
    String enc = null;
    Map<String, String> headers = new LinkedHashMap<>();
    TreeMap<String, String> loose = null;
    for (Map.Entry<String, MessageAttributeValue> e : attributes.entrySet()) {
      String name = e.getKey();
      MessageAttributeValue v = e.getValue();
      switch (name) {
        case ID -> id = string(v);
        case KEY -> key = string(v);
        case TS -> {
          try {
            ts = Long.parseLong(string(v).trim());
          } catch (NumberFormatException ignored) {
            // not ours after all: keep SQS's sent time
          }
        }
        case ENC -> enc = string(v);
        case ATTEMPTS -> {
          // not a header: the consumer adds it to the delivery count (attempts(...))
        }
        case HEADERS -> {
          if (v.binaryValue() != null) {
            unpack(v.binaryValue().asByteArrayUnsafe(), headers);
          }
        }
        default -> {
          if (loose == null) {
            loose = new TreeMap<>();
          }
          loose.put(
              name,
              v.stringValue() != null
                  ? v.stringValue()
                  : v.binaryValue() != null ? binaryText(v, name) : "");
        }
      }
    }
    if (loose != null) {
      headers.putAll(loose);
    }
    byte[] payload;
    if ("empty".equals(enc)) {
      payload = new byte[0];
    } else if ("base64".equals(enc)) {
      payload = Base64.getDecoder().decode(body);
    } else {
      payload = body.getBytes(StandardCharsets.UTF_8);
    }
    if (id == null) {
      id = "sqs-" + sqsMessageId;
      if (key == null) {
        key = groupId; // another client's FIFO message: its group is its key
      }
    }
    return Messages.restore(id, key, payload, headers, ts);
  }

  /**
   * The deliveries a copy carries from the SQS messages it replaced ({@link #ATTEMPTS}), 0 when
   * absent or not a non-negative decimal (then SQS's own count is all there is). Never throws: a
   * damaged value must not make the message undeliverable.
   */
  static int attempts(Map<String, MessageAttributeValue> attributes) {
    MessageAttributeValue v = attributes.get(ATTEMPTS);
    if (v == null) {
      return 0;
    }
    try {
      return Math.max(0, Integer.parseInt(string(v).trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * A Binary attribute Polybus wrote for a string SQS cannot carry is that string's UTF-8; others
   * show as base64.
   */
  private static String binaryText(MessageAttributeValue v, String name) {
    return name.startsWith(RESERVED_PREFIX) || isUtf8(v.binaryValue().asByteArrayUnsafe())
        ? v.binaryValue().asUtf8String()
        : Base64.getEncoder().encodeToString(v.binaryValue().asByteArrayUnsafe());
  }

  private static String string(MessageAttributeValue v) {
    if (v.stringValue() != null) {
      return v.stringValue();
    }
    return v.binaryValue() != null ? v.binaryValue().asUtf8String() : "";
  }

  /** The payload as a string SQS carries unchanged, or null when it is not such text. */
  static String asSqsText(byte[] payload) {
    for (byte b : payload) {
      // Control bytes (non-negative: UTF-8 continuation and lead bytes are negative as Java bytes):
      // only tab and line
      // feed are allowed below U+0020 (carriage return is encoded).
      if (b >= 0 && b < 0x20 && b != '\t' && b != '\n') {
        return null;
      }
    }
    String s;
    try {
      s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(payload))
              .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    return isSqsText(s) ? s : null;
  }

  private static boolean isUtf8(byte[] b) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /** Only characters SQS accepts in a body or String attribute, minus the carriage return. */
  static boolean isSqsText(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0xD800 || c == '\t' || c == '\n' || c >= 0xE000 && c <= 0xFFFD) {
        continue;
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
        continue;
      }
      return false;
    }
    return true;
  }
}
