package io.polybus;

import io.polybus.internal.Ids;
import io.polybus.internal.InternalAccess;
import io.polybus.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One message: an id, an optional ordering key, a payload of bytes, headers and a timestamp.
 *
 * <p>Instances are immutable and safe to share between threads. The payload array is copied on the
 * way in and on the way out of {@link #payload()}, so neither the caller nor Polybus can change a
 * message after it was built. Use {@link #builder()} to create one and {@link #newBuilder()} to
 * derive a changed copy.
 *
 * <ul>
 *   <li>{@code id}: unique, time-ordered (lexicographic order follows creation time within one
 *       process), 26 characters, generated when not given; a given one is 1 to {@value
 *       #MAX_ID_BYTES} bytes in UTF-8. It is stable across redeliveries and is kept by the
 *       dead-letter record, so it is the key to deduplicate on.
 *   <li>{@code key}: the ordering key, or {@code null}. With {@link Ordering#KEY}, messages with
 *       the same key are handled one at a time, in publish order.
 *   <li>{@code payload}: any bytes, empty allowed.
 *   <li>{@code headers}: string to string, insertion order kept. Names starting with {@value
 *       #RESERVED_PREFIX} are reserved for Polybus (codec and dead-letter headers) and rejected by
 *       the builder.
 *   <li>{@code timestamp}: milliseconds since the epoch; the time of creation unless given.
 *       Backends keep millisecond precision, so the builder truncates to milliseconds.
 *   <li>{@code priority}: {@link Priority#NORMAL} unless set, in the reserved header {@value
 *       #PRIORITY_HEADER} (see {@link Builder#priority}).
 *   <li>{@code deliverAt}: optional, the instant before which no group receives the message (see
 *       {@link Builder#deliverAt}); carried in the reserved header {@value #DELIVER_AT_HEADER}, so
 *       a delivered message still shows it.
 * </ul>
 *
 * <p>These limits are the same on every backend, so a message one backend takes every backend
 * takes: the builder refuses an id, key, header name or header value that is not well-formed UTF-16
 * (a lone surrogate, which brokers would turn into {@code ?}), an id over {@value #MAX_ID_BYTES} or
 * a header name over {@value #MAX_HEADER_NAME_BYTES} bytes in UTF-8; publishing refuses, before
 * anything of the batch is sent, a message whose key, header names and header values together
 * exceed {@value #MAX_METADATA_BYTES} bytes in UTF-8, or whose payload exceeds the backend's {@link
 * Capabilities#maxPayloadBytes()}.
 */
public final class Message {
  /** Header names that start with this prefix belong to Polybus. */
  public static final String RESERVED_PREFIX = "polybus-";

  /** The longest id, in UTF-8 bytes (AMQP carries it in a short string of 255). */
  public static final int MAX_ID_BYTES = 200;

  /** The longest header name, in UTF-8 bytes (an AMQP field-table name is a short string). */
  public static final int MAX_HEADER_NAME_BYTES = 255;

  /**
   * The most bytes, in UTF-8, of a message's key, header names and header values together: what
   * every backend carries beside the payload, dead-letter headers included (SQS keeps 16 KiB of
   * each message for them).
   */
  public static final int MAX_METADATA_BYTES = 8192;

  /**
   * The reserved header that holds {@link #deliverAt()}, as decimal milliseconds since the epoch.
   * Set only by {@link Builder#deliverAt} and {@link Builder#deliverAfter}.
   */
  public static final String DELIVER_AT_HEADER = "polybus-deliver-at";

  /**
   * The reserved header that marks a {@link Priority#HIGH} message (value {@code high}); absent for
   * {@link Priority#NORMAL}. Set only by {@link Builder#priority}.
   */
  public static final String PRIORITY_HEADER = "polybus-priority";

  static {
    InternalAccess.setMessageAccessor(
        new InternalAccess.MessageAccessor() {
          @Override
          public Message trusted(
              String id,
              String key,
              byte[] payload,
              Map<String, String> headers,
              long timestampMillis) {
            return new Message(id, key, payload, headers, timestampMillis, null);
          }

          @Override
          public Message lazy(
              String key, byte[] payload, long timestampMillis, Supplier<Message> decoder) {
            return new Message(null, key, payload, null, timestampMillis, decoder);
          }

          @Override
          public byte[] payload(Message message) {
            return message.payload;
          }

          @Override
          public int metadataBytes(Message message, int limit) {
            return message.metadataBytes(limit);
          }
        });
  }

  private static final byte[] EMPTY = new byte[0];

  /**
   * Null in a message read from a broker whose id and headers are decoded on first use: see {@link
   * #decoded()}.
   */
  private final String id;

  private final String key;
  private final byte[] payload;

  /** Null when {@link #id} is. */
  private final Map<String, String> headers;

  private final long timestampMillis;

  /** Decodes the id and headers of a message read from a broker, or null when they are given. */
  private final Supplier<Message> decoder;

  private volatile Message decoded;

  private Message(
      String id,
      String key,
      byte[] payload,
      Map<String, String> headers,
      long timestampMillis,
      Supplier<Message> decoder) {
    this.id = id;
    this.key = key;
    this.payload = payload;
    this.headers = headers;
    this.timestampMillis = timestampMillis;
    this.decoder = decoder;
  }

  /**
   * The message with its id and headers decoded. A handler that reads neither never pays for
   * decoding them, which on Kafka was a quarter of the CPU time of consuming a record; key, payload
   * and timestamp are always decoded.
   */
  private Message decoded() {
    Message d = decoded;
    if (d == null) {
      // Racing threads may both decode: the decoder returns equal messages, and the volatile write
      // publishes one.
      d = decoder.get();
      decoded = d;
    }
    return d;
  }

  /** A new builder with no key, an empty payload and no headers. */
  public static Builder builder() {
    return new Builder();
  }

  /** A message with the given payload and nothing else set. */
  public static Message of(byte[] payload) {
    return builder().payload(payload).build();
  }

  /** A message with the given UTF-8 text payload and nothing else set. */
  public static Message of(String text) {
    return builder().payload(text).build();
  }

  /** A message with the given key and UTF-8 text payload. */
  public static Message of(String key, String text) {
    return builder().key(key).payload(text).build();
  }

  /** A builder initialised with this message's fields, including its id and timestamp. */
  public Builder newBuilder() {
    Builder b = new Builder();
    Map<String, String> h = headers();
    b.id = id();
    b.key = key;
    b.payload = payload;
    b.headers = h.isEmpty() ? null : new LinkedHashMap<>(h);
    b.timestampMillis = timestampMillis;
    b.timestampSet = true;
    return b;
  }

  public String id() {
    return id != null ? id : decoded().id;
  }

  /** The ordering key, or {@code null} when the message has none. */
  public String key() {
    return key;
  }

  /** A copy of the payload. */
  public byte[] payload() {
    return payload.length == 0 ? payload : payload.clone();
  }

  /** The payload decoded as UTF-8. */
  public String payloadAsString() {
    return new String(payload, StandardCharsets.UTF_8);
  }

  public int payloadSize() {
    return payload.length;
  }

  /** An unmodifiable view of the headers, in insertion order. */
  public Map<String, String> headers() {
    return headers != null ? headers : decoded().headers;
  }

  /** The value of one header, or {@code null}. */
  public String header(String name) {
    return headers().get(name);
  }

  public Instant timestamp() {
    return Instant.ofEpochMilli(timestampMillis);
  }

  public long timestampMillis() {
    return timestampMillis;
  }

  /**
   * The instant before which no group receives this message, or {@code null} when it is delivered
   * as soon as it is published. A delivered message keeps it (the instant has passed by then).
   */
  public Instant deliverAt() {
    String v = headers().get(DELIVER_AT_HEADER);
    if (v == null) {
      return null;
    }
    try {
      return Instant.ofEpochMilli(Long.parseLong(v));
    } catch (NumberFormatException e) {
      // Only a foreign writer puts something else there: delivered at once rather than lost.
      return null;
    }
  }

  /** {@link Priority#HIGH} when the message was built with it, else {@link Priority#NORMAL}. */
  public Priority priority() {
    return "high".equals(headers().get(PRIORITY_HEADER)) ? Priority.HIGH : Priority.NORMAL;
  }

  /**
   * The UTF-8 length of the key, header names and header values together, up to {@code limit}: once
   * the sum passes it, some value above {@code limit} is returned. Not API beyond its use by the
   * runtime.
   */
  int metadataBytes(int limit) {
    Map<String, String> h = headers();
    int chars = key == null ? 0 : key.length();
    for (Map.Entry<String, String> e : h.entrySet()) {
      chars += e.getKey().length() + e.getValue().length();
    }
    if ((long) chars * 3 <= limit) {
      return chars; // a lower bound that proves the sum fits: no need to encode
    }
    long bytes = key == null ? 0 : Messages.utf8Length(key);
    for (Map.Entry<String, String> e : h.entrySet()) {
      if (bytes > limit) {
        break;
      }
      bytes += Messages.utf8Length(e.getKey()) + Messages.utf8Length(e.getValue());
    }
    return (int) Math.min(bytes, Integer.MAX_VALUE);
  }

  /**
   * The UTF-8 length of {@code s}, refusing text that is not well-formed UTF-16: every backend but
   * {@code mem:} would store a lone surrogate as {@code ?}, so a message would differ by backend.
   */
  static int utf8Length(String s, String field) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          throw new IllegalArgumentException(
              field
                  + " is not well-formed UTF-16: a lone surrogate (U+"
                  + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT)
                  + ") at index "
                  + i);
        }
      }
    }
    return Messages.utf8Length(s);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Message)) {
      return false;
    }
    Message m = (Message) o;
    return timestampMillis == m.timestampMillis
        && id().equals(m.id())
        && Objects.equals(key, m.key)
        && java.util.Arrays.equals(payload, m.payload)
        && headers().equals(m.headers());
  }

  @Override
  public int hashCode() {
    return id().hashCode();
  }

  /**
   * Shows id, key, sizes and header names; never payload bytes or header values, which may be
   * sensitive.
   */
  @Override
  public String toString() {
    return "Message{id="
        + id()
        + ", key="
        + key
        + ", payload="
        + payload.length
        + " bytes, headers="
        + headers().keySet()
        + ", timestamp="
        + timestamp()
        + "}";
  }

  /**
   * Builds {@link Message}s. Not thread-safe; a builder may be reused, each {@link #build()}
   * returns an independent message.
   */
  public static final class Builder {
    private String id;
    private String key;
    private byte[] payload = EMPTY;
    private LinkedHashMap<String, String> headers;
    private long timestampMillis;
    private boolean timestampSet;

    private Builder() {}

    /**
     * Sets the id. Use it to make publishing idempotent from the caller's side (a retried publish
     * carries the same id). 1 to {@value Message#MAX_ID_BYTES} bytes in UTF-8, no control
     * characters.
     */
    public Builder id(String id) {
      Objects.requireNonNull(id, "id");
      int bytes = utf8Length(id, "message id");
      if (bytes == 0 || bytes > MAX_ID_BYTES) {
        throw new IllegalArgumentException(
            "message id must be 1 to " + MAX_ID_BYTES + " bytes in UTF-8, was " + bytes);
      }
      for (int i = 0; i < id.length(); i++) {
        if (Character.isISOControl(id.charAt(i))) {
          throw new IllegalArgumentException("message id must not contain control characters");
        }
      }
      this.id = id;
      return this;
    }

    /**
     * Sets the ordering key; {@code null} removes it. An empty key is rejected: use {@code null}.
     */
    public Builder key(String key) {
      if (key != null && key.isEmpty()) {
        throw new IllegalArgumentException("message key must not be empty; use null for no key");
      }
      if (key != null) {
        utf8Length(key, "message key");
      }
      this.key = key;
      return this;
    }

    /** Sets the payload; the array is copied. */
    public Builder payload(byte[] payload) {
      Objects.requireNonNull(payload, "payload");
      this.payload = payload.length == 0 ? EMPTY : payload.clone();
      return this;
    }

    /** Sets the payload to the UTF-8 bytes of {@code text}. */
    public Builder payload(String text) {
      Objects.requireNonNull(text, "payload");
      this.payload = text.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    /**
     * Encodes {@code value} with {@code codec} into the payload and sets the codec's content-type
     * and type headers ({@code polybus-content-type}, {@code polybus-type}).
     *
     * @throws CodecException if the codec cannot encode the value
     */
    public <T> Builder value(Codec<T> codec, T value) {
      Objects.requireNonNull(codec, "codec");
      Objects.requireNonNull(value, "value");
      this.payload = codec.encode(value);
      putHeader(Codec.CONTENT_TYPE_HEADER, codec.contentType());
      String type = codec.typeName();
      if (type != null) {
        putHeader(Codec.TYPE_HEADER, type);
      } else if (headers != null) {
        headers.remove(Codec.TYPE_HEADER);
      }
      return this;
    }

    /**
     * Adds or replaces a header. Names are 1 to {@value Message#MAX_HEADER_NAME_BYTES} bytes in
     * UTF-8 and must not start with {@value Message#RESERVED_PREFIX} (case-insensitive); values may
     * be empty.
     */
    public Builder header(String name, String value) {
      Objects.requireNonNull(name, "header name");
      Objects.requireNonNull(value, "header value for " + name);
      int nameBytes = utf8Length(name, "header name");
      if (nameBytes == 0 || nameBytes > MAX_HEADER_NAME_BYTES) {
        throw new IllegalArgumentException(
            "header name must be 1 to "
                + MAX_HEADER_NAME_BYTES
                + " bytes in UTF-8, was "
                + nameBytes
                + ": '"
                + (name.length() > 40 ? name.substring(0, 40) + "…" : name)
                + "'");
      }
      utf8Length(value, "value of header '" + name + "'");
      if (name.regionMatches(true, 0, RESERVED_PREFIX, 0, RESERVED_PREFIX.length())) {
        throw new IllegalArgumentException(
            "header name '" + name + "' uses the reserved prefix '" + RESERVED_PREFIX + "'");
      }
      putHeader(name, value);
      return this;
    }

    /**
     * Adds or replaces every header of {@code headers}, in its iteration order, with the rules of
     * {@link #header}.
     */
    public Builder headers(Map<String, String> headers) {
      Objects.requireNonNull(headers, "headers");
      headers.forEach(this::header);
      return this;
    }

    /** Removes a header if present. */
    public Builder removeHeader(String name) {
      if (headers != null) {
        headers.remove(name);
      }
      return this;
    }

    /** Sets the timestamp (truncated to milliseconds). */
    public Builder timestamp(Instant timestamp) {
      Objects.requireNonNull(timestamp, "timestamp");
      this.timestampMillis = timestamp.toEpochMilli();
      this.timestampSet = true;
      return this;
    }

    public Builder timestampMillis(long epochMillis) {
      this.timestampMillis = epochMillis;
      this.timestampSet = true;
      return this;
    }

    /**
     * Delivers the message to no group before {@code at} (truncated to milliseconds); {@code null}
     * removes it. At its time the message is delivered like any other (attempts, retries, dead
     * letters); it does not hold back later messages of its key (see docs/semantics.md, "Delayed
     * delivery"). Publishing refuses, before anything of the batch is sent, a message whose delay
     * exceeds the backend's {@link Capabilities#maxDeliveryDelay()}; an instant already past means
     * at once.
     */
    public Builder deliverAt(Instant at) {
      if (at == null) {
        return removeHeader(DELIVER_AT_HEADER);
      }
      putHeader(DELIVER_AT_HEADER, Long.toString(at.toEpochMilli()));
      return this;
    }

    /**
     * Sets the priority ({@link Priority#NORMAL} unless set). A {@link Priority#HIGH} message is
     * published to its topic's high-priority lane, which only subscriptions that read priorities
     * ({@link SubscribeOptions.Builder#priority(boolean)}) read: every group of a topic that gets
     * high-priority messages must subscribe so. See docs/semantics.md, "Priority".
     */
    public Builder priority(Priority priority) {
      Objects.requireNonNull(priority, "priority");
      if (priority == Priority.HIGH) {
        putHeader(PRIORITY_HEADER, "high");
      } else {
        removeHeader(PRIORITY_HEADER);
      }
      return this;
    }

    /**
     * Delivers the message to no group before {@code delay} from now (the time of this call);
     * {@link Duration#ZERO} removes a delay set before.
     */
    public Builder deliverAfter(java.time.Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("delay must not be negative, was " + delay);
      }
      return deliverAt(delay.isZero() ? null : Instant.now().plus(delay));
    }

    private void putHeader(String name, String value) {
      if (headers == null) {
        headers = new LinkedHashMap<>();
      }
      headers.put(name, value);
    }

    public Message build() {
      long ts = timestampSet ? timestampMillis : System.currentTimeMillis();
      String messageId = id != null ? id : Ids.next(ts);
      Map<String, String> h =
          headers == null || headers.isEmpty()
              ? Map.of()
              : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
      return new Message(messageId, key, payload, h, ts, null);
    }
  }
}
