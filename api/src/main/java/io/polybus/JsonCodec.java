package io.polybus;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Objects;

/**
 * A {@link Codec} that writes and reads JSON with Jackson. Needs {@code
 * com.fasterxml.jackson.core:jackson-databind} on the class path (an optional dependency of {@code
 * polybus-api}).
 *
 * <p>Publishing sets {@code polybus-content-type: application/json} and {@code polybus-type: <type
 * name>} (by default the class's simple name, so services with their own copy of an event class
 * still agree). Receiving checks both when present: another content type, another type name or
 * malformed JSON is a {@link CodecException}, which a typed subscription dead-letters without
 * retrying.
 *
 * <p>Immutable and thread-safe; the {@link ObjectMapper} given must not be reconfigured afterwards.
 *
 * @param <T> the value type
 */
public final class JsonCodec<T> implements Codec<T> {
  public static final String CONTENT_TYPE = "application/json";

  private static final class DefaultMapper {
    static final ObjectMapper MAPPER = new ObjectMapper().findAndRegisterModules();
  }

  private final Class<T> type;
  private final String typeName;
  private final ObjectMapper mapper;

  private JsonCodec(Class<T> type, String typeName, ObjectMapper mapper) {
    this.type = type;
    this.typeName = typeName;
    this.mapper = mapper;
  }

  /**
   * A codec for {@code type} with a shared default {@link ObjectMapper} (with every module found
   * registered).
   */
  public static <T> JsonCodec<T> of(Class<T> type) {
    Objects.requireNonNull(type, "type");
    return new JsonCodec<>(type, type.getSimpleName(), DefaultMapper.MAPPER);
  }

  /** A codec for {@code type} with the given mapper. */
  public static <T> JsonCodec<T> of(Class<T> type, ObjectMapper mapper) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(mapper, "mapper");
    return new JsonCodec<>(type, type.getSimpleName(), mapper);
  }

  /** A copy that writes and expects another type name; {@code null} writes and checks none. */
  public JsonCodec<T> withTypeName(String typeName) {
    return new JsonCodec<>(type, typeName, mapper);
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  @Override
  public String typeName() {
    return typeName;
  }

  @Override
  public byte[] encode(T value) {
    try {
      return mapper.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new CodecException(
          "cannot encode " + type.getName() + " as JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public T decode(byte[] payload, String contentType, String messageTypeName) {
    if (contentType != null
        && !contentType.regionMatches(true, 0, CONTENT_TYPE, 0, CONTENT_TYPE.length())) {
      throw new CodecException(
          "expected content type "
              + CONTENT_TYPE
              + " for "
              + type.getName()
              + ", got '"
              + contentType
              + "'");
    }
    if (typeName != null && messageTypeName != null && !typeName.equals(messageTypeName)) {
      throw new CodecException(
          "expected a message of type '" + typeName + "', got '" + messageTypeName + "'");
    }
    try {
      T value = mapper.readValue(payload, type);
      if (value == null) {
        throw new CodecException("JSON payload is null, expected " + type.getName());
      }
      return value;
    } catch (IOException e) {
      throw new CodecException(
          "cannot decode JSON into "
              + type.getName()
              + ": "
              + (e instanceof com.fasterxml.jackson.core.JsonProcessingException
                  ? ((com.fasterxml.jackson.core.JsonProcessingException) e).getOriginalMessage()
                  : e.getMessage()),
          e);
    }
  }

  @Override
  public String toString() {
    return "JsonCodec{" + type.getName() + ", typeName=" + typeName + "}";
  }
}
