package io.polybus.spi;

import io.polybus.Message;
import io.polybus.internal.InternalAccess;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Message construction and access for backends: rebuilding a message read from a broker (reserved
 * headers allowed) and reading a payload without a copy.
 */
public final class Messages {
  private Messages() {}

  /**
   * Rebuilds a message as it was published. Unlike {@link Message#builder()}, headers may use the
   * reserved {@code polybus-} prefix (dead-letter and codec headers travel through brokers). The
   * payload array is taken as-is: the caller must not change it afterwards.
   */
  public static Message restore(
      String id, String key, byte[] payload, Map<String, String> headers, long timestampMillis) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(headers, "headers");
    Map<String, String> h =
        headers.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    return InternalAccess.message(
        id, key == null || key.isEmpty() ? null : key, payload, h, timestampMillis);
  }

  /**
   * A message read from a broker whose id and headers are decoded only when first asked for (most
   * handlers read neither, and decoding them can cost more than the rest of a delivery). {@code
   * decode} returns the complete message, as {@link #restore} builds it, with this key, payload and
   * timestamp; it may run more than once and on any thread, and must return equal messages each
   * time. The payload array is taken as-is, as in {@link #restore}.
   */
  public static Message restoreLazily(
      String key,
      byte[] payload,
      long timestampMillis,
      java.util.function.Supplier<Message> decode) {
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(decode, "decode");
    return InternalAccess.lazyMessage(
        key == null || key.isEmpty() ? null : key, payload, timestampMillis, decode);
  }

  /** The payload without a copy: read-only, never modify the returned array. */
  public static byte[] payloadNoCopy(Message message) {
    return InternalAccess.payload(message);
  }

  /**
   * A message derived from {@code message} with some headers added or replaced, reserved names
   * allowed. Used by the runtime for dead letters and by backends that add transport headers.
   */
  public static Message withHeaders(Message message, Map<String, String> extra) {
    Map<String, String> h = new LinkedHashMap<>(message.headers());
    h.putAll(extra);
    return InternalAccess.message(
        message.id(),
        message.key(),
        InternalAccess.payload(message),
        Collections.unmodifiableMap(h),
        message.timestampMillis());
  }

  /** A message derived from {@code message} without the headers named in {@code names}. */
  public static Message withoutHeaders(Message message, java.util.Collection<String> names) {
    Map<String, String> h = new LinkedHashMap<>(message.headers());
    h.keySet().removeAll(names);
    return InternalAccess.message(
        message.id(),
        message.key(),
        InternalAccess.payload(message),
        h.isEmpty() ? Map.of() : Collections.unmodifiableMap(h),
        message.timestampMillis());
  }

  /**
   * How many milliseconds from {@code nowMillis} (epoch milliseconds) {@code message} must wait
   * before any group may receive it: 0 for a message without {@link Message#deliverAt()} or whose
   * time has come. A backend that declares {@link io.polybus.Capabilities#maxDeliveryDelay()} holds
   * a message with a positive delay in its broker's native means (a wait queue, a sorted set,
   * {@code DelaySeconds}) and never hands it to a member earlier; the runtime has checked that the
   * delay does not exceed the declared maximum.
   */
  public static long delayMillis(Message message, long nowMillis) {
    java.time.Instant at = message.deliverAt();
    return at == null ? 0 : Math.max(0, at.toEpochMilli() - nowMillis);
  }

  /**
   * The length of {@code s} in UTF-8, counted without encoding it: what a backend compares with its
   * broker's size limits. A lone surrogate (which {@link Message.Builder} refuses) counts 3 bytes,
   * an upper bound of its encoding.
   */
  public static int utf8Length(CharSequence s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
