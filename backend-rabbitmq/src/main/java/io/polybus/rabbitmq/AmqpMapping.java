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
 * id         -> message-id property
 * key        -> routing key; header polybus-key too when it is longer than 255 UTF-8 bytes or the copy goes
 *               through a wait queue ("" for no key)
 * payload    -> body, as-is
 * headers    -> AMQP headers, string values; their order in header polybus-header-order (a field array)
 * timestamp  -> header polybus-timestamp (milliseconds) and the timestamp property (seconds)
 * delivery   -> delivery-mode 2 (persistent)
 * </pre>
 * Transport headers ({@code polybus-key}, {@code polybus-timestamp}, {@code polybus-attempts},
 * {@code polybus-partition}, {@code polybus-header-order}) and broker headers ({@code x-delivery-count}, {@code x-death}, {@code x-first-death-*},
 * {@code x-last-death-*}) are removed when a message is read. A message from another AMQP client is read as: id =
 * its message-id, or when absent a name-based UUID of its exchange, routing key, timestamp, headers and body (so it
 * is stable across redeliveries, and identical messages get identical ids); key = the polybus-key header, else the
 * routing key when not empty; timestamp = polybus-timestamp, else the timestamp property, else the time it was read;
 * non-string header values are converted with their text form.
 */
final class AmqpMapping {
  static final String KEY = "polybus-key";
  static final String TIMESTAMP = "polybus-timestamp";
  static final String ATTEMPTS = "polybus-attempts";
  static final String PARTITION = "polybus-partition";
  /** The user header names in order: the Java client reads an AMQP table into a HashMap, which loses it. */
  static final String ORDER = "polybus-header-order";
  static final String DELIVERY_COUNT = "x-delivery-count";
  private static final Set<String> TRANSPORT = Set.of(KEY, TIMESTAMP, ATTEMPTS, PARTITION, ORDER, DELIVERY_COUNT,
      "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
      "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason");
  static final int MAX_ROUTING_KEY_BYTES = 255;

  private AmqpMapping() {}

  /** The routing key a message is published with: its key if it fits, else empty (the key header is authoritative). */
  static String routingKey(Message m) {
    String key = m.key();
    if (key == null) {
      return "";
    }
    return key.length() * 3 <= MAX_ROUTING_KEY_BYTES || key.getBytes(StandardCharsets.UTF_8).length
        <= MAX_ROUTING_KEY_BYTES ? key : "";
  }

  /**
   * Properties for publishing {@code m}. {@code partition} is the partition header (-1: none) and {@code attempts}
   * the deliveries already made (0: none, header left out).
   */
  static AMQP.BasicProperties properties(Message m, int partition, int attempts) {
    Map<String, Object> headers = new LinkedHashMap<>(m.headers().size() * 2 + 8);
    headers.putAll(m.headers());
    if (m.headers().size() > 1) {
      headers.put(ORDER, new java.util.ArrayList<>(m.headers().keySet()));
    }
    // The routing key carries the key when it can; the header is needed only when it cannot (too long), and for
    // wait-queue copies (attempts > 0), whose routing key becomes the queue's name when they are dead-lettered back.
    String routingKey = routingKey(m);
    if (attempts > 0 || (m.key() != null && routingKey.isEmpty())) {
      headers.put(KEY, m.key() == null ? "" : m.key());
    }
    headers.put(TIMESTAMP, m.timestampMillis());
    if (partition >= 0) {
      headers.put(PARTITION, partition);
    }
    if (attempts > 0) {
      headers.put(ATTEMPTS, attempts);
    }
    return new AMQP.BasicProperties.Builder()
        .messageId(m.id())
        .timestamp(new Date(m.timestampMillis()))
        .deliveryMode(2)
        .headers(headers)
        .build();
  }

  /** A message read from the broker, with the attempts it carries from earlier wait-queue retries. */
  record Read(Message message, int priorAttempts, int brokerDeliveryCount) {}

  static Read read(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
    Map<String, Object> raw = props.getHeaders();
    Map<String, String> headers = raw == null || raw.isEmpty() ? Map.of() : new LinkedHashMap<>(raw.size() * 2);
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
            default -> { }
          }
          continue;
        }
        headers.putIfAbsent(name, text(v));
      }
    }
    if (!keyHeader && routingKey != null && !routingKey.isEmpty()) {
      key = routingKey;
    }
    long timestamp = ts != null ? ts
        : props.getTimestamp() != null ? props.getTimestamp().getTime() : System.currentTimeMillis();
    String id = props.getMessageId();
    if (id == null || id.isEmpty()) {
      id = derivedId(exchange, routingKey, props, headers, body);
    }
    return new Read(Messages.restore(id, key, body, headers, timestamp), prior, brokerCount);
  }

  private static String derivedId(
      String exchange, String routingKey, AMQP.BasicProperties props, Map<String, String> headers, byte[] body) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update((exchange + "\n" + routingKey + "\n" + props.getTimestamp() + "\n" + new HashMap<>(headers) + "\n")
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
