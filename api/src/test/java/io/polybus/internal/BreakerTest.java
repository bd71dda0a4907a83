package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.CircuitBreaker;
import io.polybus.CircuitBreaker.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The breaker's state machine, driven by outcomes and a manual clock, through its gate. */
class BreakerTest {
  private final ManualTime time = new ManualTime();
  private final RunState state = new RunState();
  private final List<String> transitions = new ArrayList<>();
  private int wakeups;

  private HandlerGate gate(CircuitBreaker.Builder config) {
    Breaker b =
        new Breaker(
            config.listener((s, from, to, why) -> transitions.add(from + "->" + to)).build(),
            time,
            null);
    this.breaker = b;
    return new HandlerGate(state, b, () -> wakeups++);
  }

  private Breaker breaker;

  private static CircuitBreaker.Builder fourOfFour() {
    return CircuitBreaker.builder()
        .slidingWindow(4)
        .minimumCalls(4)
        .failureRateThreshold(0.5)
        .openDuration(Duration.ofSeconds(1))
        .halfOpenTrials(2);
  }

  @Test
  void staysClosedBelowTheMinimumCallsEvenWhenEveryOutcomeFailed() {
    HandlerGate g = gate(fourOfFour());
    for (int i = 0; i < 3; i++) {
      breaker.record(Breaker.FAILURE, false);
    }
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
    assertThat(g.isOpen()).isTrue();
  }

  @Test
  void opensWhenTheFailureRateOfTheWindowReachesTheThresholdAndStopsFetching() {
    HandlerGate g = gate(fourOfFour());
    breaker.record(Breaker.SUCCESS, false);
    breaker.record(Breaker.SUCCESS, false);
    breaker.record(Breaker.FAILURE, false);
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
    breaker.record(Breaker.FAILURE, false); // 2 of 4: 0.5
    assertThat(breaker.state()).isEqualTo(State.OPEN);
    assertThat(g.isOpen()).isFalse();
    assertThat(g.fetching()).isFalse();
    assertThat(transitions).containsExactly("CLOSED->OPEN");
  }

  @Test
  void aDeadLetterTheHandlerChoseCountsNeitherWay() {
    gate(fourOfFour());
    for (int i = 0; i < 10; i++) {
      breaker.record(Breaker.NEUTRAL, false);
    }
    breaker.record(Breaker.FAILURE, false);
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void theWindowSlidesSoOldFailuresAgeOut() {
    gate(fourOfFour());
    breaker.record(Breaker.FAILURE, false);
    for (int i = 0; i < 4; i++) {
      breaker.record(Breaker.SUCCESS, false);
    }
    breaker.record(Breaker.FAILURE, false); // window: S S S F
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void halfOpenHandsOutOnlyItsTrialsAndClosesWhenAllSucceed() {
    HandlerGate g = gate(fourOfFour());
    for (int i = 0; i < 4; i++) {
      breaker.record(Breaker.FAILURE, false);
    }
    time.advance(Duration.ofMillis(999).toNanos());
    assertThat(breaker.state()).isEqualTo(State.OPEN);
    time.advance(Duration.ofMillis(1).toNanos());
    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    assertThat(g.fetching()).as("half open fetches, for its trials").isTrue();
    assertThat(g.admit(5)).as("a batch of 5 asked, 2 trials granted").isEqualTo(-2);
    assertThat(breaker.tryAdmit(1)).as("no permit left").isZero();
    breaker.record(Breaker.SUCCESS, false); // a straggler from before it opened: ignored
    breaker.record(Breaker.SUCCESS, true);
    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    breaker.record(Breaker.SUCCESS, true);
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
    assertThat(g.isOpen()).isTrue();
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
    // A fresh window: one failure does not reopen it.
    breaker.record(Breaker.FAILURE, false);
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void aFailedTrialOpensAgainForAnotherOpenDuration() {
    HandlerGate g = gate(fourOfFour());
    for (int i = 0; i < 4; i++) {
      breaker.record(Breaker.FAILURE, false);
    }
    time.advance(Duration.ofSeconds(1).toNanos());
    assertThat(g.admit(1)).isEqualTo(-1);
    breaker.record(Breaker.FAILURE, true);
    assertThat(breaker.state()).isEqualTo(State.OPEN);
    time.advance(Duration.ofSeconds(1).toNanos());
    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    assertThat(transitions)
        .containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->OPEN", "OPEN->HALF_OPEN");
  }

  @Test
  void aTrialThatEndedNeitherWayReturnsItsPermit() {
    HandlerGate g = gate(fourOfFour().halfOpenTrials(1));
    for (int i = 0; i < 4; i++) {
      breaker.record(Breaker.FAILURE, false);
    }
    time.advance(Duration.ofSeconds(1).toNanos());
    assertThat(g.admit(1)).isEqualTo(-1);
    assertThat(breaker.tryAdmit(1)).isZero();
    breaker.record(Breaker.NEUTRAL, true);
    assertThat(g.admit(1)).isEqualTo(-1);
  }

  @Test
  void pauseShutsTheGateAndResumeWakesThePoller() {
    HandlerGate g = new HandlerGate(state, null, () -> wakeups++);
    g.pause();
    assertThat(g.isOpen()).isFalse();
    assertThat(g.fetching()).isFalse();
    assertThat(g.isPaused()).isTrue();
    int before = wakeups;
    g.resume();
    assertThat(g.isOpen()).isTrue();
    assertThat(wakeups).isGreaterThan(before);
  }

  @Test
  void aWorkerWaitingAtAShutGateIsReleasedByCloseWithNothingAdmitted() throws Exception {
    HandlerGate g = new HandlerGate(state, null, () -> {});
    g.pause();
    int[] admitted = {-99};
    Thread worker = new Thread(() -> admitted[0] = g.admit(1));
    worker.start();
    Thread.sleep(50);
    assertThat(worker.isAlive()).as("waiting while paused").isTrue();
    state.running = false;
    state.stopping = true;
    g.changed();
    worker.join(5000);
    assertThat(admitted[0]).isEqualTo(HandlerGate.STOPPED);
  }
}
