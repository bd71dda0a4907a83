package io.polybus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  @Test
  void backoffGrowsExponentiallyUpToTheCap() {
    RetryPolicy p =
        RetryPolicy.builder()
            .initialBackoff(Duration.ofMillis(100))
            .multiplier(2)
            .maxBackoff(Duration.ofMillis(500))
            .jitter(0)
            .build();
    assertThat(p.backoff(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(p.backoff(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(p.backoff(3)).isEqualTo(Duration.ofMillis(400));
    assertThat(p.backoff(4)).isEqualTo(Duration.ofMillis(500));
    assertThat(p.backoff(100)).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void jitterOnlyEverAddsToTheNominalDelay() {
    RetryPolicy p =
        RetryPolicy.builder().initialBackoff(Duration.ofMillis(100)).jitter(0.5).build();
    for (int i = 0; i < 1000; i++) {
      assertThat(p.backoff(1)).isBetween(Duration.ofMillis(100), Duration.ofMillis(150));
    }
  }

  @Test
  void codecFailuresAndListedExceptionsAreNotRetryable() {
    RetryPolicy p = RetryPolicy.builder().nonRetryable(IllegalArgumentException.class).build();
    assertThat(p.isRetryable(new NumberFormatException())).isFalse(); // a subclass
    assertThat(p.isRetryable(new CodecException("bad"))).isFalse();
    assertThat(p.isRetryable(new IllegalStateException())).isTrue();
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().jitter(2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                RetryPolicy.builder()
                    .initialBackoff(Duration.ofSeconds(10))
                    .maxBackoff(Duration.ofSeconds(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
