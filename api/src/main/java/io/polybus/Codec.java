package io.polybus;

/**
 * Turns values of one type into payload bytes and back.
 *
 * <p>Implementations must be thread-safe: one codec instance is shared by every publish and every
 * handler thread. A codec never sees headers other than through {@link #decode(byte[], String,
 * String)}.
 *
 * <p>When a {@link Subscriber#subscribe(String, String, Codec, TypedHandler, SubscribeOptions)
 * typed subscription} receives a payload that fails to decode (wrong content type, wrong type name,
 * malformed bytes), the failure is not retryable: the message goes straight to the dead-letter
 * topic with the decode error as its reason.
 *
 * @param <T> the value type
 */
public interface Codec<T> {
  /** Header carrying the codec's content type, set on publish by {@link Message.Builder#value}. */
  String CONTENT_TYPE_HEADER = "polybus-content-type";

  /** Header carrying the logical type name, set on publish by {@link Message.Builder#value}. */
  String TYPE_HEADER = "polybus-type";

  /** The MIME type of encoded payloads, for example {@code application/json}. */
  String contentType();

  /**
   * The logical type name written to {@link #TYPE_HEADER} and checked on receive, or {@code null}
   * to write and check none.
   */
  String typeName();

  /**
   * Encodes a value.
   *
   * @throws CodecException if the value cannot be encoded
   */
  byte[] encode(T value);

  /**
   * Decodes a payload. {@code contentType} and {@code typeName} are the message's headers (either
   * may be {@code null} when the publisher did not set them, in which case the codec accepts the
   * payload on its bytes alone).
   *
   * @throws CodecException if the payload is not a value of this codec's type
   */
  T decode(byte[] payload, String contentType, String typeName);

  /** Decodes a whole message, reading its codec headers. */
  default T decode(Message message) {
    return decode(
        message.payload(), message.header(CONTENT_TYPE_HEADER), message.header(TYPE_HEADER));
  }
}
