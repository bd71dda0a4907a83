package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.polybus.ConfigurationException;
import io.polybus.Handler;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.SubscribeOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves that misuse fails early and clearly: invalid names with an {@link
 * IllegalArgumentException} that names the problem, {@code null}s with a {@link
 * NullPointerException}, bad URIs and unknown parameters with a {@link ConfigurationException} that
 * names them (and lists the available backends for an unknown scheme), the reserved header prefix
 * with an {@link IllegalArgumentException}; and that a password in a URI never appears in an error
 * message.
 *
 * <p>The unknown-parameter case rebuilds the URI of a bus from {@link Polybus#options()} (secrets
 * included, native settings carried over) and adds {@code nosuchoption=1}, so it runs against the
 * backend's real configuration.
 */
public interface BadInputTck extends TckContext {
  /**
   * Names that are not portable: empty, too long, a separator, a leading dot or dash, a space, a
   * path, a control character, a non-ASCII letter.
   */
  List<String> INVALID_NAMES =
      List.of("", "x".repeat(101), "a/b", ".x", "-x", "a b", "../etc", "tab\tname", "ü");

  @Test
  @Timeout(120)
  default void shouldRejectInvalidTopicAndGroupNamesNamingTheProblem() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("bad");
      Handler h = new Inbox();
      for (String bad : INVALID_NAMES) {
        String shown = bad.replace('\t', '?');
        assertThatThrownBy(() -> bus.publish(bad, Message.of("x")))
            .as("publish to topic '%s'", shown)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("topic")
            .hasMessageContaining("'" + shown + "'");
        assertThatThrownBy(() -> bus.publishAll(bad, List.of(Message.of("x"))))
            .as("publishAll to topic '%s'", shown)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("topic");
        assertThatThrownBy(() -> bus.subscribe(bad, "g", h))
            .as("subscribe to topic '%s'", shown)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("topic")
            .hasMessageContaining("'" + shown + "'");
        assertThatThrownBy(() -> bus.subscribe(topic, bad, h))
            .as("subscribe with group '%s'", shown)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("group")
            .hasMessageContaining("'" + shown + "'");
        assertThatThrownBy(() -> bus.redrive(bad, Duration.ofSeconds(1)))
            .as("redrive of topic '%s'", shown)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("topic");
        assertThatThrownBy(() -> SubscribeOptions.builder().deadLetterTopic(bad))
            .as("dead-letter topic '%s'", shown)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("topic");
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldRejectNullArgumentsWithNullPointerException() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("null");
      Message m = Message.of("x");
      Handler h = new Inbox();
      SubscribeOptions o = SubscribeOptions.defaults();
      assertNpe(() -> bus.publish(null, m), "publish(null topic)");
      assertNpe(() -> bus.publish(topic, null), "publish(null message)");
      assertNpe(() -> bus.publishAndWait(topic, null), "publishAndWait(null message)");
      assertNpe(() -> bus.publishAll(topic, null), "publishAll(null list)");
      assertNpe(
          () -> bus.publishAll(topic, Arrays.asList(m, null)), "publishAll(list with a null)");
      assertNpe(() -> bus.subscribe(null, "g", h), "subscribe(null topic)");
      assertNpe(() -> bus.subscribe(topic, null, h), "subscribe(null group)");
      assertNpe(() -> bus.subscribe(topic, "g", (Handler) null), "subscribe(null handler)");
      assertNpe(() -> bus.subscribe(topic, "g", h, null), "subscribe(null options)");
      assertNpe(() -> bus.subscribe(topic, "g", null, (v, d) -> {}, o), "subscribe(null codec)");
      assertNpe(() -> bus.redrive(null, Duration.ofSeconds(1)), "redrive(null topic)");
      assertNpe(() -> bus.redrive(topic + ".dlq", null), "redrive(null idle)");
      assertNpe(() -> Polybus.connect((String) null), "connect(null uri)");
      assertNpe(() -> Message.builder().header("h", null), "header(name, null)");
      assertNpe(() -> Message.builder().header(null, "v"), "header(null, value)");
    }
  }

  @Test
  @Timeout(120)
  default void shouldRejectAnUnknownSchemeListingTheAvailableBackends() {
    String scheme;
    try (Polybus bus = connect()) {
      scheme = bus.options().scheme();
    }
    assertThatThrownBy(() -> Polybus.connect("nosuch:"))
        .as("connect(\"nosuch:\")")
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nosuch")
        .hasMessageContaining(scheme);
  }

  @Test
  @Timeout(120)
  default void shouldRejectMalformedUris() {
    String scheme;
    try (Polybus bus = connect()) {
      scheme = bus.options().scheme();
    }
    for (String uri :
        List.of(
            "://x", "", "1abc:", scheme + ":?a=%zz", scheme + "://h:99999", scheme + ":#frag")) {
      assertThatThrownBy(() -> Polybus.connect(uri))
          .as("connect(\"%s\")", uri)
          .isInstanceOf(ConfigurationException.class);
    }
  }

  @Test
  @Timeout(120)
  default void shouldRejectAnUnknownParameterNamingIt() {
    PolybusOptions options;
    try (Polybus bus = connect()) {
      options = bus.options();
    }
    PolybusOptions withUnknown = withParameter(options, "nosuchoption", "1");
    Throwable t = catchThrowable(() -> Polybus.connect(withUnknown).close());
    assertThat(t)
        .as("connect(%s)", withUnknown.redacted())
        .isInstanceOf(ConfigurationException.class);
    assertThat(t.getMessage())
        .as("message of the unknown-parameter error")
        .contains("nosuchoption");
  }

  @Test
  @Timeout(120)
  default void shouldRejectTheReservedHeaderPrefix() {
    for (String name :
        List.of("polybus-x", "POLYBUS-X", "Polybus-dlq-reason", Message.RESERVED_PREFIX)) {
      assertThatThrownBy(() -> Message.builder().header(name, "v"))
          .as("header named '%s'", name)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Message.RESERVED_PREFIX);
      assertThatThrownBy(() -> Message.builder().headers(Map.of(name, "v")))
          .as("headers with '%s'", name)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  @Timeout(120)
  default void shouldNeverShowAPasswordInAnErrorMessage() {
    String scheme;
    try (Polybus bus = connect()) {
      scheme = bus.options().scheme();
    }
    for (String uri :
        List.of(
            "nosuch://user:s3cret@h",
            "nosuch://user:s3cret@h:1/x?nosuchoption=1",
            scheme + "://tck-user:s3cret@127.0.0.1:1?nosuchoption=1")) {
      Throwable t = catchThrowable(() -> Polybus.connect(uri).close());
      assertThat(t).as("connect(\"%s\")", uri.replace("s3cret", "****")).isNotNull();
      for (Throwable c = t; c != null; c = c.getCause()) {
        assertThat(String.valueOf(c.getMessage()))
            .as(
                "message of %s from connect(\"%s\")",
                c.getClass().getName(), uri.replace("s3cret", "****"))
            .doesNotContain("s3cret");
        assertThat(c.toString())
            .as("toString of %s", c.getClass().getName())
            .doesNotContain("s3cret");
      }
    }
  }

  private static void assertNpe(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String what) {
    assertThatThrownBy(call).as(what).isInstanceOf(NullPointerException.class);
  }

  /**
   * The URI of {@code options} with one more query parameter, secrets and native settings included:
   * a bus opened with it reaches the same broker the same way, plus the parameter.
   */
  private static PolybusOptions withParameter(PolybusOptions options, String name, String value) {
    StringBuilder uri = new StringBuilder(options.scheme()).append(':');
    if (options.user() != null || !options.hosts().isEmpty()) {
      uri.append("//");
      if (options.user() != null) {
        uri.append(encode(options.user(), ""));
        if (options.password() != null) {
          uri.append(':').append(encode(options.password(), ""));
        }
        uri.append('@');
      }
      uri.append(String.join(",", options.hosts()));
    }
    uri.append(encode(options.path(), "/:@!$'()*+,;="));
    char sep = '?';
    for (Map.Entry<String, String> p : options.parameters().entrySet()) {
      uri.append(sep).append(encode(p.getKey(), "")).append('=').append(encode(p.getValue(), ""));
      sep = '&';
    }
    uri.append(sep).append(encode(name, "")).append('=').append(encode(value, ""));
    return PolybusOptions.parse(uri.toString()).withNativeSettings(options.nativeSettings());
  }

  /** Percent-encodes every byte but unreserved characters and {@code allowed}. */
  private static String encode(String s, String allowed) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      boolean unreserved =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '.'
              || c == '_'
              || c == '~';
      if (unreserved || (c < 128 && allowed.indexOf(c) >= 0)) {
        sb.append(c);
      } else {
        sb.append('%')
            .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }
}
