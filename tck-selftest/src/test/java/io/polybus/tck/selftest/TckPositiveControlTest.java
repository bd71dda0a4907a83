package io.polybus.tck.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The positive controls of {@link TckSelfTest}: through the same test-kit path and with the same
 * short timeouts, the TCK passes against plain {@code mem:} and against the broken wrapper with no
 * flaw, so the failures of the broken runs are the flaws' doing. Isolated: the TCK's timing
 * assertions get the machine to themselves.
 */
@Isolated
@Timeout(300)
class TckPositiveControlTest {

  @Test
  void tckPassesAgainstPlainMem() {
    assertPasses(Candidates.MemCandidate.class);
  }

  @Test
  void tckPassesAgainstTheWrapperWithoutAFlaw() {
    assertPasses(Candidates.NoFlawCandidate.class);
  }

  private static void assertPasses(Class<?> candidate) {
    TckRuns.Outcome o = TckRuns.run(candidate);
    assertThat(o.failed())
        .as("TCK cases failed by %s\n%s", candidate.getSimpleName(), o.describe())
        .isEmpty();
    assertThat(o.aborted())
        .as(
            "TCK cases skipped for %s (mem: declares every gated capability)",
            candidate.getSimpleName())
        .isZero();
    assertThat(o.succeeded())
        .as("TCK cases passed by %s", candidate.getSimpleName())
        .isEqualTo(o.started())
        .isGreaterThanOrEqualTo(45);
  }
}
