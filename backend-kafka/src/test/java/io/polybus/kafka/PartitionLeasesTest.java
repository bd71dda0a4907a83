package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.kafka.PartitionLeases.KRecord;
import io.polybus.kafka.PartitionLeases.PartitionState;
import io.polybus.spi.InboundRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Leases and the commits they lead to, without a broker: records are fetched, handed out and
 * settled as {@link KafkaMember} does, and the commits are read where the member would send them.
 */
class PartitionLeasesTest {
  private static final TopicPartition P0 = new TopicPartition("orders", 0);
  private static final TopicPartition P1 = new TopicPartition("orders", 1);

  @Test
  void shouldCommitPastOnlyTheContiguousAckedRecordsWhenAcksComeOutOfOrder() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState ps = leases.assign(P0);
    leases.place(ps, 100);
    List<InboundRecord> out = handOut(leases, ps, 100, 105);

    at(out, 101).ack();
    at(out, 103).ack();
    assertThat(commitOf(leases, P0))
        .as("the offset waits for 100; the acks after it travel in the metadata")
        .isEqualTo(new OffsetAndMetadata(100, "pb1:1,a,1,a,1"));

    at(out, 100).ack();
    assertThat(commitOf(leases, P0)).isEqualTo(new OffsetAndMetadata(102, "pb1:1,a,1"));

    at(out, 104).ack();
    at(out, 102).ack();
    assertThat(commitOf(leases, P0)).isEqualTo(new OffsetAndMetadata(105, ""));
    assertThat(ps.records).isEmpty();
  }

  @Test
  void shouldSendAPeriodicCommitOnlyWhenTheOffsetMovedTheStateChangedOrTheLastOneFailed() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState ps = leases.assign(P0);
    leases.place(ps, 0);
    List<InboundRecord> out = handOut(leases, ps, 0, 3);
    assertThat(leases.pendingCommits(leases.states(), false))
        .containsExactly(Map.entry(P0, new OffsetAndMetadata(0, "pb1:1*3")));
    assertThat(leases.pendingCommits(leases.states(), false)).as("nothing changed").isEmpty();

    at(out, 1).ack();
    assertThat(leases.pendingCommits(leases.states(), false))
        .as("an ack behind the offset is stored in the metadata (the lag reads it)")
        .containsExactly(Map.entry(P0, new OffsetAndMetadata(0, "pb1:1,a,1")));
    assertThat(leases.pendingCommits(leases.states(), false)).as("nothing changed").isEmpty();
    at(out, 0).ack();
    assertThat(leases.pendingCommits(leases.states(), false))
        .containsExactly(Map.entry(P0, new OffsetAndMetadata(2, "pb1:1")));

    leases.commitFailed(List.of(P0));
    assertThat(leases.pendingCommits(leases.states(), false))
        .as("sent again after a failure")
        .containsExactly(Map.entry(P0, new OffsetAndMetadata(2, "pb1:1")));
    assertThat(leases.pendingCommits(leases.states(), true))
        .as("even a full commit skips what is stored")
        .isEmpty();
  }

  @Test
  void shouldCarryAcksAndDeliveryCountsToTheMemberThatTakesThePartitionOver() {
    PartitionLeases first = new PartitionLeases();
    PartitionState a = first.assign(P0);
    first.place(a, 10);
    List<InboundRecord> out = handOut(first, a, 10, 14);
    at(out, 11).ack();
    at(out, 12).recordAttempts(3);
    OffsetAndMetadata committed = commitOf(first, P0);
    assertThat(committed).isEqualTo(new OffsetAndMetadata(10, "pb1:1,a,3,1"));
    first.forget(List.of(P0));

    PartitionLeases next = new PartitionLeases();
    PartitionState b = next.assign(P0);
    next.resume(b, committed);
    assertThat(next.pendingCommits(next.states(), true))
        .as("nothing fetched yet: the stored state stays")
        .isEmpty();

    List<InboundRecord> again = handOut(next, b, 10, 14);
    assertThat(offsets(again))
        .as("the acked record is not delivered again")
        .containsExactly(10L, 12L, 13L);
    assertThat(counts(again)).as("counts go on from the first member's").containsExactly(2, 4, 2);
    assertThat(b.metadata(10))
        .as("the acked record is a gap, committed as acked")
        .isEqualTo("pb1:2,a,4,2");
  }

  @Test
  void shouldKeepTheRestoredStateOfRecordsNotFetchedYetInItsOwnCommits() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState ps = leases.assign(P0);
    leases.resume(ps, new OffsetAndMetadata(10, "pb1:1,a,3,1"));

    List<InboundRecord> out = handOut(leases, ps, 10, 11);

    assertThat(counts(out)).containsExactly(2);
    assertThat(commitOf(leases, P0)).isEqualTo(new OffsetAndMetadata(10, "pb1:2,a,3,1"));
    at(out, 10).ack();
    assertThat(commitOf(leases, P0))
        .as("the offset stops at the first record not fetched; the restored state after it stays")
        .isEqualTo(new OffsetAndMetadata(11, "pb1:a,3,1"));
  }

  @Test
  void shouldTakeRecordsOfARevokedPartitionOutOfThePollInProgressWithTheirCountsRestored() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState p0 = leases.assign(P0);
    leases.resume(p0, new OffsetAndMetadata(0, "pb1:2"));
    PartitionState p1 = leases.assign(P1);
    leases.place(p1, 0);
    List<InboundRecord> out = new ArrayList<>();
    for (long offset = 0; offset < 2; offset++) {
      PartitionLeases.lease(leases.admit(p0, fetched(P0, offset)), out);
      PartitionLeases.lease(leases.admit(p1, fetched(P1, offset)), out);
    }
    List<KRecord> ofP0 = new ArrayList<>(p0.records);
    assertThat(ofP0).extracting(KRecord::deliveryCount).containsExactly(3, 1);

    PartitionLeases.withdraw(out, List.of(P0));

    assertThat(out).extracting(r -> ((KRecord) r).partition.tp).containsOnly(P1).hasSize(2);
    assertThat(ofP0)
        .extracting(KRecord::deliveryCount)
        .as("as if never leased")
        .containsExactly(2, 0);
    assertThat(PartitionLeases.anyLeased(List.of(p0))).as("nothing of P0 to wait for").isFalse();
    assertThat(PartitionLeases.anyLeased(List.of(p1))).isTrue();
    assertThat(p0.metadata(0)).as("the next owner gets the counts from before").isEqualTo("pb1:2");
  }

  @Test
  void shouldCommitTheCountBeforeTheLeaseForARecordNoHandlerWasStartedFor() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState ps = leases.assign(P0);
    leases.resume(ps, new OffsetAndMetadata(5, "pb1:1*3"));
    List<InboundRecord> out = handOut(leases, ps, 5, 10);
    assertThat(counts(out)).containsExactly(2, 2, 2, 1, 1);

    at(out, 5).markNotHandled();
    // 6 was handled: its delivery counts.
    at(out, 7).recordAttempts(4);
    at(out, 7).markNotHandled(); // the attempts the runtime recorded still count
    at(out, 8).markNotHandled(); // its first delivery: none counted
    at(out, 9).ack();
    at(out, 9).markNotHandled(); // acked stays acked
    OffsetAndMetadata committed = commitOf(leases, P0);
    assertThat(committed).isEqualTo(new OffsetAndMetadata(5, "pb1:1,2,4,0,a"));

    PartitionLeases next = new PartitionLeases();
    PartitionState b = next.assign(P0);
    next.resume(b, committed);
    List<InboundRecord> again = handOut(next, b, 5, 10);
    assertThat(offsets(again)).containsExactly(5L, 6L, 7L, 8L);
    assertThat(counts(again))
        .as("a delivery no handler saw is not counted")
        .containsExactly(2, 3, 5, 1);
  }

  @Test
  void shouldLeaseReleasedRecordsAgainCountingTheAttemptsRecordedAndDropThoseOfRevokedPartitions() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState p0 = leases.assign(P0);
    leases.place(p0, 0);
    PartitionState p1 = leases.assign(P1);
    leases.place(p1, 0);
    List<InboundRecord> out = handOut(leases, p0, 0, 2);
    out.addAll(handOut(leases, p1, 0, 1));
    KRecord kept = (KRecord) out.get(0);
    KRecord moved = (KRecord) out.get(2);
    kept.recordAttempts(3);
    kept.release(Duration.ZERO);
    moved.release(Duration.ZERO);
    leases.forget(List.of(P1));

    List<InboundRecord> again = new ArrayList<>();
    leases.takeReleased(again, 10);

    assertThat(again).containsExactly(kept);
    assertThat(kept.deliveryCount()).isEqualTo(4);
  }

  @Test
  void shouldIgnoreSettlingCallsOnceClosedOrRevoked() {
    PartitionLeases leases = new PartitionLeases();
    PartitionState p0 = leases.assign(P0);
    leases.place(p0, 0);
    PartitionState p1 = leases.assign(P1);
    leases.place(p1, 0);
    List<InboundRecord> ofP0 = handOut(leases, p0, 0, 2);
    List<InboundRecord> ofP1 = handOut(leases, p1, 0, 1);

    leases.forget(List.of(P1));
    ofP1.get(0).ack();
    assertThat(((KRecord) ofP1.get(0)).state).as("revoked").isEqualTo(KRecord.LEASED);

    leases.close();
    ofP0.get(0).ack();
    ofP0.get(1).recordAttempts(5);
    ofP0.get(1).release(Duration.ZERO);
    ofP0.get(1).markNotHandled();
    assertThat(commitOf(leases, P0))
        .as("the close's commit")
        .isEqualTo(new OffsetAndMetadata(0, "pb1:1*2"));
    List<InboundRecord> again = new ArrayList<>();
    leases.takeReleased(again, 10);
    assertThat(again).isEmpty();
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Fetches, admits and leases offsets {@code from} to {@code to} (exclusive) of {@code ps}, as one
   * poll call.
   */
  private static List<InboundRecord> handOut(
      PartitionLeases leases, PartitionState ps, long from, long to) {
    List<InboundRecord> out = new ArrayList<>();
    for (long offset = from; offset < to; offset++) {
      KRecord r = leases.admit(ps, fetched(ps.tp, offset));
      if (r != null) {
        PartitionLeases.lease(r, out);
      }
    }
    leases.handedOut();
    return out;
  }

  private static ConsumerRecord<byte[], byte[]> fetched(TopicPartition tp, long offset) {
    return new ConsumerRecord<>(
        tp.topic(),
        tp.partition(),
        offset,
        ("k" + offset).getBytes(StandardCharsets.UTF_8),
        new byte[] {1});
  }

  /**
   * The commit a close or revocation (a synchronous, full commit) would send for {@code tp}; null
   * for none.
   */
  private static OffsetAndMetadata commitOf(PartitionLeases leases, TopicPartition tp) {
    return leases.pendingCommits(leases.states(), true).get(tp);
  }

  private static KRecord at(List<InboundRecord> out, long offset) {
    for (InboundRecord r : out) {
      if (((KRecord) r).offset == offset) {
        return (KRecord) r;
      }
    }
    throw new AssertionError("no record at " + offset + " in " + offsets(out));
  }

  private static List<Long> offsets(List<InboundRecord> out) {
    List<Long> offsets = new ArrayList<>();
    out.forEach(r -> offsets.add(((KRecord) r).offset));
    return offsets;
  }

  private static List<Integer> counts(List<InboundRecord> out) {
    List<Integer> counts = new ArrayList<>();
    out.forEach(r -> counts.add(r.deliveryCount()));
    return counts;
  }
}
