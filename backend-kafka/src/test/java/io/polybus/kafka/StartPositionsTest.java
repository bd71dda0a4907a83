package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.StartFrom;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Where a new group starts in each partition, from what the broker says about the partition. */
class StartPositionsTest {
  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);
  private static final TopicPartition P2 = new TopicPartition("t", 2);
  private static final Set<TopicPartition> ALL = Set.of(P0, P1, P2);

  /** Partition 0 retains 10..99, partition 1 retains 50..59, partition 2 is empty at 7. */
  private static Map<TopicPartition, Long> broker(
      StartFrom.Kind kind, Map<TopicPartition, Long> atOrAfter) {
    switch (kind) {
      case EARLIEST:
        return Map.of(P0, 10L, P1, 50L, P2, 7L);
      case LATEST:
        return Map.of(P0, 100L, P1, 60L, P2, 7L);
      default:
        return atOrAfter;
    }
  }

  @Test
  void offsetIsClampedToWhatEachPartitionRetains() {
    Map<TopicPartition, Long> at =
        KafkaBackend.startPositions(ALL, StartFrom.offset(55), k -> broker(k, Map.of()));
    assertThat(at).containsExactlyInAnyOrderEntriesOf(Map.of(P0, 55L, P1, 55L, P2, 7L));
    at = KafkaBackend.startPositions(ALL, StartFrom.offset(0), k -> broker(k, Map.of()));
    assertThat(at).containsExactlyInAnyOrderEntriesOf(Map.of(P0, 10L, P1, 50L, P2, 7L));
    at = KafkaBackend.startPositions(ALL, StartFrom.offset(1_000), k -> broker(k, Map.of()));
    assertThat(at).containsExactlyInAnyOrderEntriesOf(Map.of(P0, 100L, P1, 60L, P2, 7L));
  }

  @Test
  void timestampWithNoRecordAtOrAfterItStartsAtTheEnd() {
    Map<TopicPartition, Long> found = new HashMap<>();
    found.put(P0, 42L);
    found.put(P1, -1L); // the admin client's answer when no record is that new
    // P2 absent: the consumer's answer (a null entry) when no record is that new
    Map<TopicPartition, Long> at =
        KafkaBackend.startPositions(
            ALL, StartFrom.timestamp(Instant.ofEpochMilli(5)), k -> broker(k, found));
    assertThat(at).containsExactlyInAnyOrderEntriesOf(Map.of(P0, 42L, P1, 60L, P2, 7L));
  }

  @Test
  void earliestAndLatestAreTheBrokersAnswers() {
    assertThat(KafkaBackend.startPositions(ALL, StartFrom.EARLIEST, k -> broker(k, Map.of())))
        .containsExactlyInAnyOrderEntriesOf(Map.of(P0, 10L, P1, 50L, P2, 7L));
    assertThat(KafkaBackend.startPositions(ALL, StartFrom.LATEST, k -> broker(k, Map.of())))
        .containsExactlyInAnyOrderEntriesOf(Map.of(P0, 100L, P1, 60L, P2, 7L));
  }
}
