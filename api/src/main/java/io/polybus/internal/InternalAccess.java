package io.polybus.internal;

import io.polybus.Message;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Not API. Gives Polybus's own packages access to {@link Message} internals without widening its
 * public surface (the pattern okhttp calls {@code Internal}). {@code Message} registers the
 * accessor in its static initialiser.
 */
public final class InternalAccess {
  /** Implemented by {@link Message}. */
  public interface MessageAccessor {
    Message trusted(
        String id, String key, byte[] payload, Map<String, String> headers, long timestampMillis);

    /**
     * A message whose id and headers {@code decoder} supplies on first use, as a complete message.
     */
    Message lazy(String key, byte[] payload, long timestampMillis, Supplier<Message> decoder);

    byte[] payload(Message message);

    int metadataBytes(Message message, int limit);
  }

  private static volatile MessageAccessor messages;

  private InternalAccess() {}

  public static void setMessageAccessor(MessageAccessor accessor) {
    messages = accessor;
  }

  private static MessageAccessor messages() {
    MessageAccessor m = messages;
    if (m == null) {
      // Loading Message runs its static initialiser, which registers the accessor.
      Message.builder();
      m = messages;
    }
    return m;
  }

  public static Message message(
      String id, String key, byte[] payload, Map<String, String> headers, long timestampMillis) {
    return messages().trusted(id, key, payload, headers, timestampMillis);
  }

  public static Message lazyMessage(
      String key, byte[] payload, long timestampMillis, Supplier<Message> decoder) {
    return messages().lazy(key, payload, timestampMillis, decoder);
  }

  public static byte[] payload(Message message) {
    return messages().payload(message);
  }

  /**
   * See {@code Message.metadataBytes}: the key's and headers' UTF-8 length, or some value above
   * {@code limit}.
   */
  public static int metadataBytes(Message message, int limit) {
    return messages().metadataBytes(message, limit);
  }
}
