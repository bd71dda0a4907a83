package io.polybus.tck.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.tck.selftest.Candidates.BreakerIgnoredCandidate;
import io.polybus.tck.selftest.Candidates.CountUnhandledCandidate;
import io.polybus.tck.selftest.Candidates.CrossedRepliesCandidate;
import io.polybus.tck.selftest.Candidates.DelayHoldsKeyCandidate;
import io.polybus.tck.selftest.Candidates.DeliversEarlyCandidate;
import io.polybus.tck.selftest.Candidates.DlqLosesHeadersCandidate;
import io.polybus.tck.selftest.Candidates.DropCandidate;
import io.polybus.tck.selftest.Candidates.DropTraceHeadersCandidate;
import io.polybus.tck.selftest.Candidates.DuplicateCandidate;
import io.polybus.tck.selftest.Candidates.ExceedInFlightCandidate;
import io.polybus.tck.selftest.Candidates.IgnoreMaxAttemptsCandidate;
import io.polybus.tck.selftest.Candidates.MarksBeforeSuccessCandidate;
import io.polybus.tck.selftest.Candidates.MiscountLagCandidate;
import io.polybus.tck.selftest.Candidates.NarrowLimitsCandidate;
import io.polybus.tck.selftest.Candidates.PauseIgnoredCandidate;
import io.polybus.tck.selftest.Candidates.PriorityIgnoredCandidate;
import io.polybus.tck.selftest.Candidates.RedeliverAckedCandidate;
import io.polybus.tck.selftest.Candidates.RedeliverNeighboursCandidate;
import io.polybus.tck.selftest.Candidates.ReorderCandidate;
import io.polybus.tck.selftest.Candidates.ReplayFromEarliestCandidate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The TCK proving itself: each broken wrapper of the in-memory backend must fail the TCK, and in
 * particular the case written to catch its flaw (other cases may fail too; every failure is
 * printed). The broken runs are independent (their own buses and names), so they run concurrently
 * to keep the self-test short; the positive controls in {@link TckPositiveControlTest} run alone.
 */
@Execution(ExecutionMode.CONCURRENT)
@Timeout(300)
class TckSelfTest {

  @Test
  void tckCatchesABackendThatDropsMessages() {
    assertCaught(
        DropCandidate.class, "shouldDeliverEveryMessagePublishedAfterTheGroupExistsExactlyOnce");
  }

  @Test
  void tckCatchesABackendThatDuplicatesDeliveries() {
    assertCaught(
        DuplicateCandidate.class,
        "shouldDeliverEveryMessagePublishedAfterTheGroupExistsExactlyOnce");
  }

  @Test
  void tckCatchesABackendThatReordersMessagesOfAKey() {
    assertCaught(
        ReorderCandidate.class,
        "shouldHandleEachKeyInPublishOrderAcrossMembersAndThreads",
        "shouldKeepKeyOrderAcrossRetries");
  }

  @Test
  void tckCatchesABackendThatIgnoresMaxAttempts() {
    assertCaught(
        IgnoreMaxAttemptsCandidate.class,
        "shouldAttemptExactlyMaxAttemptsTimesThenDeadLetterOnceWithoutOrdering");
  }

  @Test
  void tckCatchesABackendWhoseDeadLettersLoseTheirHeaders() {
    assertCaught(
        DlqLosesHeadersCandidate.class, "shouldKeepTheOriginalMessageAndAddTheDeadLetterHeaders");
  }

  @Test
  void tckCatchesABackendThatRedeliversAckedMessages() {
    assertCaught(
        RedeliverAckedCandidate.class, "shouldNeverRedeliverAnAckedMessageNotEvenToANewMember");
  }

  @Test
  void tckCatchesABackendThatExceedsMaxInFlight() {
    assertCaught(
        ExceedInFlightCandidate.class, "shouldNeverHoldMoreUnsettledDeliveriesThanMaxInFlight");
  }

  @Test
  void tckCatchesABackendThatStartsTimestampAndOffsetGroupsAtTheEarliestMessage() {
    TckRuns.Outcome o = TckRuns.run(ReplayFromEarliestCandidate.class);
    assertThat(o.failed().keySet())
        .as("cases failed by the replay-from-earliest backend\n%s", o.describe())
        .contains(
            "shouldStartATimestampGroupAtTheFirstMessageAtOrAfterTheInstantOrRefuseIt",
            "shouldStartAnOffsetGroupAtThatOffsetOrRefuseIt");
  }

  @Test
  void tckCatchesABackendWithNarrowerLimitsThanThePortableOnes() {
    assertCaught(
        NarrowLimitsCandidate.class,
        "shouldDeliverAMessageAtThePortableIdHeaderNameAndMetadataLimitsIntact");
  }

  @Test
  void tckCatchesABackendThatCountsDeliveriesAClosingMemberNeverHandled() {
    assertCaught(
        CountUnhandledCandidate.class,
        "shouldNotCountDeliveriesThatAClosingMemberGaveBackUnhandled");
  }

  @Test
  void tckCatchesABackendThatDropsTheTraceHeaders() {
    assertCaught(
        DropTraceHeadersCandidate.class,
        "shouldTraceEveryAttemptAsAChildOfThePublishAndCountIt",
        "shouldCarryTheTraceIntoTheDeadLetterAndThroughARedrive");
  }

  @Test
  void tckCatchesABackendWhoseLagCountsWrong() {
    assertCaught(
        MiscountLagCandidate.class,
        "shouldReportTheLagOfAGroupWithoutARunningMemberAndZeroOnceConsumed");
  }

  @Test
  void tckCatchesABackendThatRedeliversTheAckedNeighboursOfAFailedBatchElement() {
    assertCaught(
        RedeliverNeighboursCandidate.class,
        "shouldSettleEachElementOfABatchOnItsOwn",
        "shouldFailOnlyTheUnsettledElementsOfABatchWhoseHandlerThrows");
  }

  @Test
  void tckCatchesARuntimeWhosePauseKeepsDelivering() {
    assertCaught(
        PauseIgnoredCandidate.class,
        "shouldDeliverNothingWhilePausedAndEveryMessageOnceAfterResume",
        "shouldKeepWhatAPausedMemberHoldsThroughAPauseLongerThanTheAckTimeout");
  }

  @Test
  void tckCatchesARuntimeWhoseCircuitBreakerNeverOpens() {
    assertCaught(
        BreakerIgnoredCandidate.class,
        "shouldOpenTheCircuitAtItsThresholdAndCloseItAfterASuccessfulHalfOpenTrial");
  }

  @Test
  void tckCatchesABackendThatSendsRepliesWithTheWrongCorrelationId() {
    assertCaught(
        CrossedRepliesCandidate.class,
        "shouldGiveEachOfManyConcurrentRequestsItsOwnReply",
        "shouldReturnTheRespondersReplyToTheRequester");
  }

  @Test
  void tckCatchesABackendThatDeliversADelayedMessageAtOnce() {
    assertCaught(
        DeliversEarlyCandidate.class,
        "shouldDeliverADelayedMessageToEveryGroupAtItsTimeWithoutHoldingBackItsKey");
  }

  @Test
  void tckCatchesABackendWhoseDelayedMessageHoldsBackItsKey() {
    assertCaught(
        DelayHoldsKeyCandidate.class,
        "shouldDeliverADelayedMessageToEveryGroupAtItsTimeWithoutHoldingBackItsKey");
  }

  @Test
  void tckCatchesARuntimeThatIgnoresPriority() {
    assertCaught(
        PriorityIgnoredCandidate.class,
        "shouldHandleHighPriorityMessagesBeforeTheNormalBacklogPublishedBeforeThem");
  }

  @Test
  void tckCatchesADedupeStoreThatMarksBeforeTheHandlerSucceeds() {
    assertCaught(
        MarksBeforeSuccessCandidate.class,
        "shouldRetryAFailedFirstAttemptAndSkipOnlyALaterCopy",
        "shouldMarkAManualDeliveryOnlyWhenTheHandlerAcks");
  }

  /**
   * At least one case fails, and one of {@code designated} (the cases written for this flaw) is
   * among them.
   */
  private static void assertCaught(Class<?> candidate, String... designated) {
    TckRuns.Outcome o = TckRuns.run(candidate);
    assertThat(o.failed())
        .as("TCK cases failed by %s\n%s", candidate.getSimpleName(), o.describe())
        .isNotEmpty();
    assertThat(o.failed().keySet())
        .as(
            "the cases written for this flaw, among those failed by %s\n%s",
            candidate.getSimpleName(), o.describe())
        .containsAnyOf(designated);
  }
}
