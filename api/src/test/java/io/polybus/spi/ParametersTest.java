package io.polybus.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ParametersTest {
  @Test
  void readsTypedValuesWithDefaults() {
    Parameters p =
        Parameters.of(PolybusOptions.parse("x:?n=8&d=250ms&d2=PT2S&b=yes&size=16m&mode=Sync"));
    assertThat(p.intValue("n", 1, 1, 100)).isEqualTo(8);
    assertThat(p.intValue("absent", 4, 1, 100)).isEqualTo(4);
    assertThat(p.duration("d", Duration.ZERO)).isEqualTo(Duration.ofMillis(250));
    assertThat(p.duration("d2", Duration.ZERO)).isEqualTo(Duration.ofSeconds(2));
    assertThat(p.bool("b", false)).isTrue();
    assertThat(p.bytes("size", 0, 0, Long.MAX_VALUE)).isEqualTo(16L << 20);
    assertThat(p.choice("mode", "page", "page", "sync")).isEqualTo("sync");
    p.requireAllRead();
  }

  @Test
  void namesTheUnknownParameterAndTheKnownOnes() {
    Parameters p = Parameters.of(PolybusOptions.parse("x:?partitions=2&nosuchoption=1"));
    p.intValue("partitions", 1, 1, 10);
    assertThatThrownBy(p::requireAllRead)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nosuchoption")
        .hasMessageContaining("partitions");
  }

  @Test
  void explainsBadValuesWithoutShowingSecrets() {
    assertThatThrownBy(
            () -> Parameters.of(PolybusOptions.parse("x:?n=abc")).intValue("n", 1, 1, 10))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'n'")
        .hasMessageContaining("between 1 and 10");
    assertThatThrownBy(
            () -> Parameters.of(PolybusOptions.parse("x:?token=abc")).intValue("token", 1, 1, 10))
        .isInstanceOf(ConfigurationException.class)
        .message()
        .doesNotContain("abc");
  }

  @Test
  void durationsTooLargeToCountAreRefusedNamingTheKeyAndTheRange() {
    for (String v :
        new String[] {
          "300000d",
          "9999999999999999d",
          "9223372036854775807s",
          "9223372036854775807us",
          "36501d",
          "PT-1S",
          "-5ms"
        }) {
      Parameters p = Parameters.of(PolybusOptions.parse("x:?stallTimeout=" + v));
      assertThatThrownBy(() -> p.duration("stallTimeout", Duration.ZERO))
          .as("stallTimeout=%s", v)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("'stallTimeout'")
          .hasMessageContaining("between 0 and 36500d");
    }
    assertThat(Parameters.of(PolybusOptions.parse("x:?t=36500d")).duration("t", Duration.ZERO))
        .isEqualTo(Parameters.MAX_DURATION);
    Parameters bounded = Parameters.of(PolybusOptions.parse("x:?t=2h"));
    assertThatThrownBy(
            () -> bounded.duration("t", Duration.ZERO, Duration.ofMillis(1), Duration.ofHours(1)))
        .hasMessageContaining("between 1ms and 1h");
  }

  @Test
  void numbersMustBeWrittenInAsciiDigits() {
    // U+FF18 FULLWIDTH DIGIT EIGHT: Integer.parseInt reads it as 8
    Parameters p =
        Parameters.of(PolybusOptions.parse("x:?partitions=\uFF18&size=\uFF18k&d=\uFF18s&l=\uFF18"));
    assertThatThrownBy(() -> p.intValue("partitions", 1, 1, 100))
        .hasMessageContaining("'partitions'");
    assertThatThrownBy(() -> p.bytes("size", 1, 1, 1 << 20)).hasMessageContaining("'size'");
    assertThatThrownBy(() -> p.duration("d", Duration.ZERO)).hasMessageContaining("'d'");
    assertThatThrownBy(() -> p.longValue("l", 1, 1, 100)).hasMessageContaining("'l'");
  }

  @Test
  void aBackendWithoutNativeSettingsRefusesThemByTheirFullName() {
    Parameters none = Parameters.of(PolybusOptions.parse("mem:"));
    none.rejectNativeSettings();
    Parameters some =
        Parameters.of(PolybusOptions.parse("mem:").withNativeSetting("maxPayload", "10"));
    assertThatThrownBy(some::rejectNativeSettings)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("polybus.mem.maxPayload");
  }
}
