package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the consumer lag reads from a group's state file, without opening it for writing. */
class GroupStateUnsettledTest {
  @TempDir Path dir;

  @Test
  void countsTheOffsetsTheStateDoesNotMarkSettledFromTheOldestRetainedRecord() throws Exception {
    Path f = dir.resolve("p0.state");
    assertThat(GroupState.unsettled(f, 0, 10)).as("no state: no group").isEqualTo(-1);
    GroupState.create(f, 100);
    try (GroupState s = GroupState.open(f)) {
      s.ack(101);
      s.ack(103);
      assertThat(GroupState.unsettled(f, 0, 110)).as("100..109 less two acked").isEqualTo(8);
      assertThat(GroupState.unsettled(f, 102, 110))
          .as("retention passed the committed offset: 102..109 less 103")
          .isEqualTo(7);
      s.ack(100);
      assertThat(s.committed()).isEqualTo(102);
      assertThat(GroupState.unsettled(f, 0, 110)).as("102..109 less 103").isEqualTo(7);
      assertThat(GroupState.unsettled(f, 0, 101)).as("an end below the committed offset").isZero();
      s.skipTo(100 + GroupState.WINDOW + 5);
      assertThat(GroupState.unsettled(f, 0, 100 + GroupState.WINDOW + 5)).isZero();
    }
  }
}
