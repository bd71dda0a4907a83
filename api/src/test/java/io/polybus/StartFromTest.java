package io.polybus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class StartFromTest {
  @Test
  void aTimestampOutsideEpochMillisecondsIsRefusedWithTheRange() {
    for (Instant bad :
        new Instant[] {Instant.MAX, Instant.MIN, Instant.ofEpochSecond(Long.MAX_VALUE / 999)}) {
      assertThatThrownBy(() -> StartFrom.timestamp(bad))
          .as("timestamp(%s)", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("epoch milliseconds");
    }
    Instant last = Instant.ofEpochMilli(Long.MAX_VALUE);
    assertThat(StartFrom.timestamp(last).timestampMillis()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void aTimestampKeepsMillisecondsOnly() {
    assertThat(StartFrom.timestamp(Instant.ofEpochSecond(5, 1_234_567)).timestamp())
        .isEqualTo(Instant.ofEpochMilli(5001));
  }
}
