package io.polybus.cli;

import io.polybus.Delivery;
import io.polybus.Message;
import java.io.PrintStream;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How {@code consume} and {@code dlq show} print a message: {@code pretty} for people, {@code json}
 * (one {@link MessageJson} object per line) for scripts and {@code publish --json}, {@code raw} for
 * the payload bytes alone, each followed by a newline.
 *
 * <p>Stateless; thread-safe as far as the stream is.
 */
public enum OutputFormat {
  /** Headers and payload, readable. */
  PRETTY,
  /** One JSON object per line. */
  JSON,
  /** The payload bytes, then {@code \n}. */
  RAW;

  /** Prints one delivery and flushes. */
  public void print(PrintStream out, Delivery d) {
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("topic", d.topic());
    extra.put("attempt", d.attempt());
    print(out, d.message(), extra);
  }

  /** Prints one message with {@code extra} fields (json) or header lines (pretty), and flushes. */
  public void print(PrintStream out, Message m, Map<String, Object> extra) {
    switch (this) {
      case JSON -> out.println(MessageJson.line(m, extra));
      case RAW -> {
        out.write(m.payload(), 0, m.payload().length);
        out.write('\n');
      }
      case PRETTY -> {
        StringBuilder head = new StringBuilder();
        extra.forEach((k, v) -> head.append(k).append('=').append(v).append("  "));
        head.append("id=").append(m.id());
        if (m.key() != null) {
          head.append("  key=").append(m.key());
        }
        head.append("  at=").append(m.timestamp());
        out.println(head);
        m.headers().forEach((k, v) -> out.println("  " + k + ": " + v));
        Optional<String> text = MessageJson.utf8(m.payload());
        if (text.isPresent()) {
          out.println("  " + text.get().replace("\n", "\n  "));
        } else {
          out.println(
              "  ("
                  + m.payload().length
                  + " bytes, base64) "
                  + Base64.getEncoder().encodeToString(m.payload()));
        }
      }
    }
    out.flush();
  }
}
