package io.polybus.postgres;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code headers} column: a JSON array of {@code [name, value]} pairs, in order ({@code jsonb}
 * keeps array order; an object would not keep its keys' order). Reading also accepts an object of
 * names to values, which another client may find easier to write; then the order is jsonb's. A
 * value that is not a string (a number, {@code true}) is read as its JSON text. Stateless.
 */
final class HeadersJson {
  private HeadersJson() {}

  static String write(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return "[]";
    }
    StringBuilder sb = new StringBuilder(16 + headers.size() * 24).append('[');
    boolean first = true;
    for (Map.Entry<String, String> e : headers.entrySet()) {
      sb.append(first ? "[" : ",[");
      first = false;
      string(sb, e.getKey()).append(',');
      string(sb, e.getValue()).append(']');
    }
    return sb.append(']').toString();
  }

  private static StringBuilder string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  /**
   * The headers of a column value, in order.
   *
   * @throws IllegalArgumentException naming the problem when the text is not such JSON
   */
  static Map<String, String> read(String json) {
    Map<String, String> out = new LinkedHashMap<>();
    if (json == null) {
      return out;
    }
    Reader r = new Reader(json);
    r.skip();
    if (r.peek() == '[') {
      r.expect('[');
      if (!r.tryConsume(']')) {
        do {
          r.expect('[');
          String name = r.value();
          r.expect(',');
          String value = r.value();
          r.expect(']');
          out.put(name, value);
        } while (r.tryConsume(','));
        r.expect(']');
      }
    } else if (r.peek() == '{') {
      r.expect('{');
      if (!r.tryConsume('}')) {
        do {
          String name = r.value();
          r.expect(':');
          out.put(name, r.value());
        } while (r.tryConsume(','));
        r.expect('}');
      }
    } else {
      throw new IllegalArgumentException("headers must be a JSON array of pairs or an object");
    }
    return out;
  }

  private static final class Reader {
    private final String s;
    private int i;

    Reader(String s) {
      this.s = s;
    }

    void skip() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    char peek() {
      skip();
      if (i >= s.length()) {
        throw new IllegalArgumentException("headers JSON ends early");
      }
      return s.charAt(i);
    }

    void expect(char c) {
      if (peek() != c) {
        throw new IllegalArgumentException("headers JSON: expected '" + c + "' at " + i);
      }
      i++;
    }

    boolean tryConsume(char c) {
      if (peek() == c) {
        i++;
        return true;
      }
      return false;
    }

    /** A string, or the text of a scalar (number, true, false, null). */
    String value() {
      if (peek() != '"') {
        int start = i;
        while (i < s.length() && ",]}: \t\r\n".indexOf(s.charAt(i)) < 0) {
          i++;
        }
        if (start == i) {
          throw new IllegalArgumentException("headers JSON: expected a value at " + i);
        }
        return s.substring(start, i);
      }
      i++;
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (i >= s.length()) {
          throw new IllegalArgumentException("headers JSON: unterminated string");
        }
        char c = s.charAt(i++);
        if (c == '"') {
          return sb.toString();
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> sb.append(e); // \" \\ \/
        }
      }
    }
  }
}
