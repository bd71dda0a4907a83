package io.polybus.tck;

import io.polybus.Codec;
import io.polybus.CodecException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny codec for the typed-subscription cases: an integer as decimal UTF-8 text. It counts decode
 * calls per payload so a test can prove a payload was decoded (attempted) only once. Thread-safe.
 */
final class TckIntegerCodec implements Codec<Integer> {
  static final String CONTENT_TYPE = "text/x-tck-integer";
  static final String TYPE_NAME = "tck.Integer";

  private final Map<String, AtomicInteger> decodes = new ConcurrentHashMap<>();

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  @Override
  public String typeName() {
    return TYPE_NAME;
  }

  @Override
  public byte[] encode(Integer value) {
    return value.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Integer decode(byte[] payload, String contentType, String typeName) {
    String text = new String(payload, StandardCharsets.UTF_8);
    decodes.computeIfAbsent(text, t -> new AtomicInteger()).incrementAndGet();
    if (contentType != null && !contentType.equals(CONTENT_TYPE)) {
      throw new CodecException("tck: content type " + contentType + " is not " + CONTENT_TYPE);
    }
    if (typeName != null && !typeName.equals(TYPE_NAME)) {
      throw new CodecException("tck: type " + typeName + " is not " + TYPE_NAME);
    }
    try {
      return Integer.valueOf(text);
    } catch (NumberFormatException e) {
      throw new CodecException("tck: not a decimal integer: '" + text + "'", e);
    }
  }

  /** How often a payload of this text was decoded. */
  int decodes(String text) {
    AtomicInteger n = decodes.get(text);
    return n == null ? 0 : n.get();
  }
}
