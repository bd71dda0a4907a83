package io.polybus.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class InMemoryProcessedStoreTest {
  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @Test
  void shouldReportAMarkOnlyForItsGroupAndIdAndTellWhetherItWasNew() {
    InMemoryProcessedStore store = InMemoryProcessedStore.create();
    assertThat(store.isProcessed("g", "id-1")).isFalse();
    assertThat(store.markProcessed("g", "id-1")).isTrue();
    assertThat(store.markProcessed("g", "id-1")).as("second mark").isFalse();
    assertThat(store.isProcessed("g", "id-1")).isTrue();
    assertThat(store.isProcessed("other", "id-1")).as("another group").isFalse();
    assertThat(store.isProcessed("g", "ID-1")).as("ids compare exactly").isFalse();
  }

  @Test
  void shouldForgetTheOldestMarkBeyondMaxEntries() {
    InMemoryProcessedStore store = InMemoryProcessedStore.builder().maxEntries(3).build();
    for (int i = 0; i < 4; i++) {
      store.markProcessed("g", "id-" + i);
    }
    assertThat(store.size()).isEqualTo(3);
    assertThat(store.isProcessed("g", "id-0")).as("the oldest, forgotten").isFalse();
    assertThat(store.isProcessed("g", "id-1")).isTrue();
    assertThat(store.isProcessed("g", "id-3")).isTrue();
  }

  @Test
  void shouldForgetMarksOlderThanTheRetention() {
    ManualClock clock = new ManualClock();
    InMemoryProcessedStore store =
        InMemoryProcessedStore.builder().retention(Duration.ofMinutes(10)).clock(clock).build();
    store.markProcessed("g", "old");
    clock.advance(Duration.ofMinutes(6));
    store.markProcessed("g", "young");
    clock.advance(Duration.ofMinutes(4));
    assertThat(store.isProcessed("g", "old")).as("exactly 10 minutes old: kept").isTrue();
    clock.advance(Duration.ofMillis(1));
    assertThat(store.isProcessed("g", "old")).as("older than 10 minutes").isFalse();
    assertThat(store.isProcessed("g", "young")).isTrue();
    assertThat(store.markProcessed("g", "old")).as("marked again after expiry").isTrue();
  }

  @Test
  void shouldPurgeExactlyTheMarksMadeBeforeTheCutoff() {
    ManualClock clock = new ManualClock();
    InMemoryProcessedStore store = InMemoryProcessedStore.builder().clock(clock).build();
    store.markProcessed("g", "a");
    store.markProcessed("g", "b");
    clock.advance(Duration.ofSeconds(1));
    Instant cutoff = clock.instant();
    store.markProcessed("g", "c");
    assertThat(store.purgeMarkedBefore(cutoff)).isEqualTo(2);
    assertThat(store.isProcessed("g", "a")).isFalse();
    assertThat(store.isProcessed("g", "c")).as("made at the cutoff").isTrue();
  }

  @Test
  void shouldRefuseBadSettingsNamingThem() {
    assertThatThrownBy(() -> InMemoryProcessedStore.builder().maxEntries(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxEntries");
    assertThatThrownBy(() -> InMemoryProcessedStore.builder().retention(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retention");
    assertThatThrownBy(() -> InMemoryProcessedStore.create().isProcessed(null, "x"))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("group");
  }
}
