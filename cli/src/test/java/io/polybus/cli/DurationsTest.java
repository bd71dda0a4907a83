package io.polybus.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class DurationsTest {
  @Test
  void readsUnitsPlainSecondsAndIso() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("7")).isEqualTo(Duration.ofSeconds(7));
    assertThat(Durations.parse("PT1M")).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void refusesAnythingElseWithAnExample() {
    assertThatThrownBy(() -> Durations.parse("5x"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("500ms");
    assertThatThrownBy(() -> Durations.parse("")).isInstanceOf(TypeConversionException.class);
  }
}
