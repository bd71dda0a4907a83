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
    Parameters p = Parameters.of(PolybusOptions.parse(
        "x:?n=8&d=250ms&d2=PT2S&b=yes&size=16m&mode=Sync"));
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
    assertThatThrownBy(p::requireAllRead).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nosuchoption").hasMessageContaining("partitions");
  }

  @Test
  void explainsBadValuesWithoutShowingSecrets() {
    assertThatThrownBy(() -> Parameters.of(PolybusOptions.parse("x:?n=abc")).intValue("n", 1, 1, 10))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("'n'").hasMessageContaining("between 1 and 10");
    assertThatThrownBy(() -> Parameters.of(PolybusOptions.parse("x:?token=abc")).intValue("token", 1, 1, 10))
        .isInstanceOf(ConfigurationException.class).message().doesNotContain("abc");
  }
}
