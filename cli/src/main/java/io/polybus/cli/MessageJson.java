package io.polybus.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polybus.Message;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON form of a message, one object per line, read by {@code publish --json} and written by
 * {@code consume --format json}, so that one tool's output is the other's input:
 *
 * <pre>
 * {"id":"...","key":"...","headers":{"k":"v"},"timestamp":"2025-01-01T00:00:00.123Z",
 *  "payload":"text","encoding":"utf-8"}            // or "encoding":"base64"
 * </pre>
 *
 * A payload that is valid UTF-8 is written as text, any other as base64, so bytes survive exactly.
 * On input every field but {@code payload} is optional, and {@code encoding} defaults to utf-8.
 *
 * <p>Stateless; thread-safe (Jackson's mapper is).
 */
public final class MessageJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private MessageJson() {}

  /** The payload as text when it is valid UTF-8. */
  public static Optional<String> utf8(byte[] payload) {
    try {
      return Optional.of(
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(payload))
              .toString());
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }

  /** The object for {@code m}, with {@code extra} fields (topic, attempt) first. */
  public static ObjectNode toJson(Message m, Map<String, Object> extra) {
    ObjectNode o = MAPPER.createObjectNode();
    extra.forEach((k, v) -> o.putPOJO(k, v));
    o.put("id", m.id());
    if (m.key() != null) {
      o.put("key", m.key());
    } else {
      o.putNull("key");
    }
    ObjectNode h = o.putObject("headers");
    m.headers().forEach(h::put);
    o.put("timestamp", m.timestamp().toString());
    Optional<String> text = utf8(m.payload());
    if (text.isPresent()) {
      o.put("payload", text.get());
      o.put("encoding", "utf-8");
    } else {
      o.put("payload", Base64.getEncoder().encodeToString(m.payload()));
      o.put("encoding", "base64");
    }
    return o;
  }

  /** One line of JSON for {@code m}. */
  public static String line(Message m, Map<String, Object> extra) {
    try {
      return MAPPER.writeValueAsString(toJson(m, extra));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One input line, read: everything but the payload may be null or empty. */
  public record Parsed(
      String id, String key, Map<String, String> headers, Instant timestamp, byte[] payload) {}

  /**
   * Reads one input line.
   *
   * @throws CliException with {@link ExitCode#BAD_MESSAGE} naming the line when it is not such an
   *     object
   */
  public static Parsed parse(String line, long lineNumber) {
    JsonNode n;
    try {
      n = MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      throw bad(lineNumber, "not JSON (" + e.getOriginalMessage() + ")");
    }
    if (n == null || !n.isObject()) {
      throw bad(lineNumber, "not a JSON object");
    }
    JsonNode payload = n.get("payload");
    if (payload == null || !payload.isTextual()) {
      throw bad(lineNumber, "no \"payload\" string");
    }
    String encoding = n.hasNonNull("encoding") ? n.get("encoding").asText() : "utf-8";
    byte[] bytes;
    switch (encoding.toLowerCase(Locale.ROOT)) {
      case "utf-8", "utf8" -> bytes = payload.asText().getBytes(StandardCharsets.UTF_8);
      case "base64" -> {
        try {
          bytes = Base64.getDecoder().decode(payload.asText());
        } catch (IllegalArgumentException e) {
          throw bad(lineNumber, "payload is not base64");
        }
      }
      default -> throw bad(lineNumber, "unknown encoding '" + encoding + "' (utf-8 or base64)");
    }
    Instant timestamp = null;
    if (n.hasNonNull("timestamp")) {
      try {
        timestamp = Instant.parse(n.get("timestamp").asText());
      } catch (DateTimeParseException e) {
        throw bad(lineNumber, "timestamp is not an ISO-8601 instant");
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    JsonNode h = n.get("headers");
    if (h != null && !h.isNull()) {
      if (!h.isObject()) {
        throw bad(lineNumber, "\"headers\" is not an object");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        headers.put(e.getKey(), e.getValue().asText());
      }
    }
    return new Parsed(text(n, "id"), text(n, "key"), headers, timestamp, bytes);
  }

  private static String text(JsonNode n, String field) {
    return n.hasNonNull(field) ? n.get(field).asText() : null;
  }

  private static CliException bad(long lineNumber, String what) {
    return new CliException(ExitCode.BAD_MESSAGE, "input line " + lineNumber + ": " + what);
  }
}
