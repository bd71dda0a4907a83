package io.polybus.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParameterTest {
  static final Parameter<Integer> PARTITIONS =
      Parameter.intValue("partitions", 4, 1, 1024, "partitions");
  static final Parameter<Duration> LINGER =
      Parameter.duration(
          "linger", Duration.ofMillis(5), Duration.ZERO, Duration.ofSeconds(1), "linger");
  static final Parameter<Long> SIZE = Parameter.bytes("size", 16L << 20, 1, 1L << 30, "size");
  static final Parameter<String> MODE = Parameter.choice("mode", "page", "mode", "page", "sync");
  static final Parameter<Boolean> TLS = Parameter.bool("tls", false, "tls");
  static final Parameter<String> TOKEN = Parameter.string("sessionToken", null, "token").secret();
  static final Parameter<Long> RETENTION =
      Parameter.longValue("retention", 0, 0, Long.MAX_VALUE, "kept").defaultShownAs("keep");
  static final List<Parameter<?>> ALL =
      List.of(PARTITIONS, LINGER, SIZE, MODE, TLS, TOKEN, RETENTION);

  @Test
  void readsDeclaredParametersWithTheirDefaultsAndBounds() {
    Parameters p = Parameters.of(PolybusOptions.parse("x:?partitions=8&size=64k&mode=SYNC"), ALL);
    assertThat(p.get(PARTITIONS)).isEqualTo(8);
    assertThat(p.get(LINGER)).isEqualTo(Duration.ofMillis(5));
    assertThat(p.get(SIZE)).isEqualTo(64L << 10);
    assertThat(p.get(MODE)).isEqualTo("sync");
    assertThat(p.get(TLS)).isFalse();
    assertThat(p.get(TOKEN)).isNull();
    p.requireAllRead();
    assertThatThrownBy(() -> Parameters.of(PolybusOptions.parse("x:?linger=2s"), ALL).get(LINGER))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("between 0 and 1s");
  }

  @Test
  void unknownParameterErrorListsEveryDeclaredNameEvenUnread() {
    Parameters p = Parameters.of(PolybusOptions.parse("x:?nosuch=1"), ALL);
    p.get(PARTITIONS);
    assertThatThrownBy(p::requireAllRead)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nosuch")
        .hasMessageContaining("retention")
        .hasMessageContaining("sessionToken");
  }

  @Test
  void readingAnUndeclaredParameterIsABug() {
    Parameters p = Parameters.of(PolybusOptions.parse("x:"), List.of(PARTITIONS));
    assertThatThrownBy(() -> p.get(TLS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tls");
  }

  @Test
  void secretFlagMustAgreeWithTheNameRuleThatRedactsUris() {
    Parameter<String> notDeclaredSecret = Parameter.string("apiToken", null, "t");
    assertThatThrownBy(() -> Parameters.of(PolybusOptions.parse("x:"), List.of(notDeclaredSecret)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret()");
    assertThatThrownBy(() -> Parameter.string("region", null, "r").secret())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("isSecretName");
    Parameter<Integer> pin = Parameter.intValue("privatePin", 1, 0, 9999, "pin").secret();
    assertThatThrownBy(
            () -> Parameters.of(PolybusOptions.parse("x:?privatePin=12ab"), List.of(pin)).get(pin))
        .isInstanceOf(ConfigurationException.class)
        .message()
        .doesNotContain("12ab");
  }

  @Test
  void spellsDefaultsTheWayDocsWriteThem() {
    assertThat(SIZE.defaultSpellings()).containsExactly("16m", "16 MiB", "16777216");
    assertThat(LINGER.defaultSpellings()).containsExactly("5ms");
    assertThat(PARTITIONS.defaultSpellings()).containsExactly("4");
    assertThat(RETENTION.defaultSpellings()).containsExactly("keep", "0");
    assertThat(TOKEN.defaultSpellings()).isEmpty();
    assertThat(TOKEN.isSecret()).isTrue();
  }

  @Test
  void deadLetterTopicRuleIsPortableAndDistinct() {
    assertThat(PortableNames.deadLetterTopic("orders", "email")).isEqualTo("orders.email.dlq");
    String t = "t".repeat(PortableNames.MAX_LENGTH);
    String a = PortableNames.deadLetterTopic(t, "a");
    assertThat(a)
        .hasSize(PortableNames.MAX_LENGTH)
        .endsWith(".dlq")
        .isNotEqualTo(PortableNames.deadLetterTopic(t, "b"));
    assertThat(PortableNames.isPortable(a)).isTrue();
  }
}
