package io.polybus.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import io.polybus.Message;
import io.polybus.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The wire mapping between a Polybus {@link Message} and an AMQP 0-9-1 message.
 *
 * <pre>
 * id         -> message-id property; header polybus-id instead when it is longer than 255 UTF-8 bytes (a
 *               message-id is an AMQP short string)
 * key        -> routing key; header polybus-key too when it is longer than 255 UTF-8 bytes or the copy goes
 *               through a wait queue ("" for no key)
 * payload    -> body, as-is
 * headers    -> AMQP headers, string values; their order in header polybus-header-order (a field array)
 * timestamp  -> header polybus-timestamp (milliseconds) and the timestamp property (seconds)
 * delivery   -> delivery-mode 2 (persistent)
 * </pre>
 *
 * Header names are AMQP short strings too: a message with a name over 255 UTF-8 bytes is refused,
 * and so is one whose properties and headers do not fit one frame of the connection ({@link
 * #refusal}). Transport headers ({@code polybus-id}, {@code polybus-key}, {@code
 * polybus-timestamp}, {@code polybus-attempts}, {@code polybus-partition}, {@code
 * polybus-header-order}) and broker headers ({@code x-delivery-count}, {@code x-death}, {@code
 * x-first-death-*}, {@code x-last-death-*}) are removed when a message is read. A message from
 * another AMQP client is read as: id = its polybus-id header, else its message-id, or when absent a
 * name-based UUID of its exchange, routing key, timestamp, headers and body (so it is stable across
 * redeliveries, and identical messages get identical ids); key = the polybus-key header, else the
 * routing key when not empty; timestamp = polybus-timestamp, else the timestamp property, else the
 * time it was read; non-string header values are converted with their text form.
 */
final class AmqpMapping {
  static final String ID = "polybus-id";
  static final String KEY = "polybus-key";
  static final String TIMESTAMP = "polybus-timestamp";
  static final String ATTEMPTS = "polybus-attempts";
  static final String PARTITION = "polybus-partition";

  /**
   * The user header names in order: the Java client reads an AMQP table into a HashMap, which loses
   * it.
   */
  static final String ORDER = "polybus-header-order";

  /**
   * On a mandatory publish only: the publisher's number for it, so that a {@code basic.return}
   * names the publish it returns (see {@link ConfirmPublisher}).
   */
  static final String RETURN_TAG = "polybus-return-tag";

  static final String DELIVERY_COUNT = "x-delivery-count";
  private static final Set<String> TRANSPORT =
      Set.of(
          ID,
          KEY,
          TIMESTAMP,
          ATTEMPTS,
          PARTITION,
          ORDER,
          RETURN_TAG,
          DELIVERY_COUNT,
          "x-death",
          "x-first-death-exchange",
          "x-first-death-queue",
          "x-first-death-reason",
          "x-last-death-exchange",
          "x-last-death-queue",
          "x-last-death-reason");

  /** The longest AMQP short string (routing key, message-id, header name), in UTF-8 bytes. */
  static final int MAX_SHORT_STRING_BYTES = 255;

  private AmqpMapping() {}

  /**
   * The routing key a message is published with: its key if it fits, else empty (the key header is
   * authoritative).
   */
  static String routingKey(Message m) {
    String key = m.key();
    if (key == null) {
      return "";
    }
    return fitsShortString(key) ? key : "";
  }

  static boolean fitsShortString(String s) {
    // A char is at most 3 UTF-8 bytes (a surrogate pair 4 for two chars): most strings need no
    // encoding to know.
    return s.length() * 3 <= MAX_SHORT_STRING_BYTES || utf8Length(s) <= MAX_SHORT_STRING_BYTES;
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  /**
   * Why {@code m}, as {@code props}, cannot be published on a connection whose negotiated frame
   * size is {@code frameMax} (0: no limit), or null when it can. The client finds both faults only
   * while encoding, after it has taken the message's confirm sequence number; this finds them
   * before anything is sent.
   */
  static String refusal(Message m, AMQP.BasicProperties props, int bodyLength, int frameMax) {
    for (String name : m.headers().keySet()) {
      if (!fitsShortString(name)) {
        return "message "
            + m.id()
            + " has a header name of "
            + utf8Length(name)
            + " UTF-8 bytes; RabbitMQ "
            + "carries header names as AMQP short strings, at most "
            + MAX_SHORT_STRING_BYTES
            + " bytes";
      }
    }
    if (frameMax <= 0 || contentHeaderBound(props) <= frameMax) {
      return null;
    }
    int size = contentHeaderFrameSize(props, bodyLength);
    if (size <= frameMax) {
      return null;
    }
    return "message "
        + m.id()
        + " takes "
        + size
        + " bytes of AMQP content header (id, key over "
        + MAX_SHORT_STRING_BYTES
        + " bytes, headers); the header must fit one frame, and the broker negotiated "
        + frameMax
        + " bytes (frame_max)";
  }

  /** At least the size of the content header frame of {@code props}, cheaply: no encoding. */
  static long contentHeaderBound(AMQP.BasicProperties props) {
    // Frame envelope 8, class/weight/body size/flags 14, timestamp 8, delivery mode 1, table length
    // 4: 35, rounded.
    long n = 64 + (props.getMessageId() == null ? 0 : 1 + 3L * props.getMessageId().length());
    Map<String, Object> headers = props.getHeaders();
    if (headers != null) {
      for (Map.Entry<String, Object> e : headers.entrySet()) {
        n += 2 + 3L * e.getKey().length() + valueBound(e.getValue());
      }
    }
    return n;
  }

  private static long valueBound(Object v) {
    if (v instanceof String s) {
      return 4 + 3L * s.length();
    }
    if (v instanceof List<?> list) {
      long n = 4;
      for (Object o : list) {
        n += 1 + valueBound(o);
      }
      return n;
    }
    return 9; // the numbers this mapping writes: at most a long
  }

  /**
   * The exact size of the content header frame the client will write for {@code props}, by its own
   * encoder.
   */
  static int contentHeaderFrameSize(AMQP.BasicProperties props, int bodyLength) {
    try {
      return props.toFrame(0, bodyLength).size();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e); // writes to memory only
    }
  }

  /**
   * Properties for publishing {@code m}. {@code partition} is the partition header (-1: none) and
   * {@code attempts} the deliveries already made (0: none, header left out).
   */
  static AMQP.BasicProperties properties(Message m, int partition, int attempts) {
    return properties(m, partition, attempts, attempts > 0);
  }

  /**
   * {@link #properties(Message, int, int)} for a message that {@code waits} in a wait queue (a
   * retry, or a publish with a delay): its key travels as a header, since the routing key becomes
   * the wait queue's name when it is dead-lettered on.
   */
  static AMQP.BasicProperties properties(Message m, int partition, int attempts, boolean waits) {
    Map<String, Object> headers = new LinkedHashMap<>(m.headers().size() * 2 + 8);
    headers.putAll(m.headers());
    if (m.headers().size() > 1) {
      headers.put(ORDER, new java.util.ArrayList<>(m.headers().keySet()));
    }
    // The routing key carries the key when it can; the header is needed only when it cannot (too
    // long), and for
    // wait-queue copies (attempts > 0), whose routing key becomes the queue's name when they are
    // dead-lettered back.
    String routingKey = routingKey(m);
    if (waits || (m.key() != null && routingKey.isEmpty())) {
      headers.put(KEY, m.key() == null ? "" : m.key());
    }
    headers.put(TIMESTAMP, m.timestampMillis());
    if (partition >= 0) {
      headers.put(PARTITION, partition);
    }
    if (attempts > 0) {
      headers.put(ATTEMPTS, attempts);
    }
    // A message-id is a short string; a longer id travels as a (long string) header, and no
    // message-id is set.
    String id = m.id();
    boolean idFits = fitsShortString(id);
    if (!idFits) {
      headers.put(ID, id);
    }
    return new AMQP.BasicProperties.Builder()
        .messageId(idFits ? id : null)
        .timestamp(new Date(m.timestampMillis()))
        .deliveryMode(2)
        .headers(headers)
        .build();
  }

  /**
   * A message read from the broker, with the attempts it carries from earlier wait-queue retries.
   */
  record Read(Message message, int priorAttempts, int brokerDeliveryCount) {}

  static Read read(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
    Map<String, Object> raw = props.getHeaders();
    Map<String, String> headers =
        raw == null || raw.isEmpty() ? Map.of() : new LinkedHashMap<>(raw.size() * 2);
    Object order = raw == null ? null : raw.get(ORDER);
    if (order instanceof List<?> names) {
      for (Object n : names) {
        String name = text(n);
        Object v = raw.get(name);
        if (v != null && !TRANSPORT.contains(name)) {
          headers.put(name, text(v));
        }
      }
    }
    String key = null;
    boolean keyHeader = false;
    Long ts = null;
    int prior = 0;
    int brokerCount = 0;
    if (raw != null) {
      for (Map.Entry<String, Object> e : raw.entrySet()) {
        String name = e.getKey();
        Object v = e.getValue();
        if (TRANSPORT.contains(name)) {
          switch (name) {
            case KEY -> {
              keyHeader = true;
              key = text(v);
            }
            case TIMESTAMP -> ts = number(v);
            case ATTEMPTS -> prior = intOf(number(v));
            case DELIVERY_COUNT -> brokerCount = intOf(number(v));
            default -> {}
          }
          continue;
        }
        headers.putIfAbsent(name, text(v));
      }
    }
    if (!keyHeader && routingKey != null && !routingKey.isEmpty()) {
      key = routingKey;
    }
    long timestamp =
        ts != null
            ? ts
            : props.getTimestamp() != null
                ? props.getTimestamp().getTime()
                : System.currentTimeMillis();
    Object idHeader = raw == null ? null : raw.get(ID);
    String id = idHeader != null ? text(idHeader) : props.getMessageId();
    if (id == null || id.isEmpty()) {
      id = derivedId(exchange, routingKey, props, headers, body);
    }
    return new Read(Messages.restore(id, key, body, headers, timestamp), prior, brokerCount);
  }

  private static String derivedId(
      String exchange,
      String routingKey,
      AMQP.BasicProperties props,
      Map<String, String> headers,
      byte[] body) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(
          (exchange
                  + "\n"
                  + routingKey
                  + "\n"
                  + props.getTimestamp()
                  + "\n"
                  + new HashMap<>(headers)
                  + "\n")
              .getBytes(StandardCharsets.UTF_8));
      d.update(body);
      byte[] h = d.digest();
      long msb = 0;
      long lsb = 0;
      for (int i = 0; i < 8; i++) {
        msb = (msb << 8) | (h[i] & 0xff);
        lsb = (lsb << 8) | (h[8 + i] & 0xff);
      }
      // Version 5 layout (name-based), so it reads as a well-formed UUID.
      msb = (msb & ~0xF000L) | 0x5000L;
      lsb = (lsb & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
      return new UUID(msb, lsb).toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  private static String text(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof LongString ls) {
      return new String(ls.getBytes(), StandardCharsets.UTF_8);
    }
    if (v instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    return v.toString();
  }

  private static Long number(Object v) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(text(v).trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static int intOf(Long v) {
    return v == null ? 0 : (int) Math.max(0, Math.min(Integer.MAX_VALUE, v));
  }
}
