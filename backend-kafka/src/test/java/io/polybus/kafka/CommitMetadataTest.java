package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The commit-metadata encoding keeps acks and delivery counts past the committed offset. */
class CommitMetadataTest {
  @Test
  void shouldRoundTripAckedOffsetsAndDeliveryCountsRunLengthEncoded() {
    CommitMetadata.Encoder e = new CommitMetadata.Encoder();
    e.add(1, 1);
    e.add(CommitMetadata.ACKED, 2);
    e.add(0, 1);
    e.add(3, 1);
    e.add(0, 5);
    String m = e.finish();
    assertThat(m).isEqualTo("pb1:1,a*2,0,3");
    TreeMap<Long, Integer> parsed = CommitMetadata.parse(100, m);
    assertThat(parsed)
        .containsExactlyEntriesOf(
            new TreeMap<>(
                Map.of(100L, 1, 101L, CommitMetadata.ACKED, 102L, CommitMetadata.ACKED, 104L, 3)));
  }

  @Test
  void shouldWriteNothingWhenNoRecordWasDelivered() {
    CommitMetadata.Encoder e = new CommitMetadata.Encoder();
    e.add(0, 10);
    assertThat(e.finish()).isEmpty();
  }

  @Test
  void shouldIgnoreMetadataOfOtherApplicationsAndGarbage() {
    assertThat(CommitMetadata.parse(0, "")).isEmpty();
    assertThat(CommitMetadata.parse(0, null)).isEmpty();
    assertThat(CommitMetadata.parse(0, "my app's checkpoint")).isEmpty();
    assertThat(CommitMetadata.parse(0, "pb1:x*2")).isEmpty();
    assertThat(CommitMetadata.parse(0, "pb1:1*-3")).isEmpty();
  }

  @Test
  void shouldStayUnderTheBrokersMetadataLimitDroppingTheTail() {
    CommitMetadata.Encoder e = new CommitMetadata.Encoder();
    for (int i = 0; i < 5000; i++) {
      e.add(i % 2 == 0 ? CommitMetadata.ACKED : 2, 1);
    }
    String m = e.finish();
    assertThat(m.length()).isLessThanOrEqualTo(CommitMetadata.MAX_CHARS);
    TreeMap<Long, Integer> parsed = CommitMetadata.parse(0, m);
    assertThat(parsed.get(0L)).isEqualTo(CommitMetadata.ACKED);
    assertThat(parsed.get(1L)).isEqualTo(2);
  }

  @Test
  void shouldCountTheAckedOffsetsOfARangeWithoutExpandingTheRuns() {
    // 100 delivered, 101..102 acked, 103 never delivered, 104 three times, 105..999_104 acked.
    String m = "pb1:1,a*2,0,3,a*999000";
    assertThat(CommitMetadata.countAcked(100, m, 100, 106)).isEqualTo(3);
    assertThat(CommitMetadata.countAcked(100, m, 102, 2_000_000)).isEqualTo(1 + 999_000);
    assertThat(CommitMetadata.countAcked(100, m, 0, 101)).as("before the range").isZero();
    assertThat(CommitMetadata.countAcked(100, "other app", 0, 1000)).isZero();
    assertThat(CommitMetadata.countAcked(100, "pb1:a*2,x", 0, 1000)).as("not ours").isZero();
  }
}
