package io.polybus.tck.selftest;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.idempotency.ProcessedStore;
import io.polybus.tck.PolybusTck;
import io.polybus.tck.TckTimeouts;
import java.time.Duration;

/**
 * The whole TCK bound to one backend each, for {@link TckSelfTest} to run through the JUnit test
 * kit. Named {@code *Candidate} and nested, so that Surefire never runs them directly: most of them
 * are meant to fail.
 */
final class Candidates {
  private Candidates() {}

  /**
   * Short timeouts keep the self-test fast: mem: answers in milliseconds, and a broken run waits
   * out every await.
   */
  static final TckTimeouts SHORT = TckTimeouts.of(Duration.ofSeconds(5), Duration.ofMillis(500));

  /** What the in-memory backend, and so every broken wrapper of it, declares. */
  static final Capabilities MEM =
      Capabilities.builder()
          .orderedByKey(true)
          .replay(true)
          .replayFromTimestamp(true)
          .replayFromOffset(true)
          .durable(false)
          .uncountedGiveBack(true)
          .nativeDelayedRetry(true)
          .mayDuplicate(false)
          .lagAccuracy(ConsumerLag.Accuracy.EXACT)
          .maxPayloadBytes(1 << 20)
          .maxHeaders(64)
          .maxDeliveryDelay(Duration.ofDays(30))
          .build();

  abstract static class Candidate implements PolybusTck {
    abstract String uri();

    @Override
    public Polybus connect() {
      return Polybus.connect(uri());
    }

    @Override
    public Capabilities declaredCapabilities() {
      return MEM;
    }

    @Override
    public TckTimeouts timeouts() {
      return SHORT;
    }
  }

  /** The positive control: plain mem:. */
  static final class MemCandidate extends Candidate {
    @Override
    String uri() {
      return "mem:";
    }
  }

  /** The wrapper without a flaw: proves the wrapper alone breaks nothing. */
  static final class NoFlawCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:none";
    }
  }

  static final class DropCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:drop";
    }
  }

  static final class DuplicateCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:duplicate";
    }
  }

  static final class ReorderCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:reorder";
    }
  }

  static final class IgnoreMaxAttemptsCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:ignore-max-attempts";
    }
  }

  static final class DlqLosesHeadersCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:dlq-loses-headers";
    }
  }

  static final class RedeliverAckedCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:redeliver-acked";
    }
  }

  static final class ExceedInFlightCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:exceed-in-flight";
    }
  }

  static final class ReplayFromEarliestCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:replay-from-earliest";
    }
  }

  static final class NarrowLimitsCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:narrow-limits";
    }
  }

  static final class CountUnhandledCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:count-unhandled";
    }
  }

  static final class DropTraceHeadersCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:drop-trace-headers";
    }
  }

  static final class MiscountLagCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:miscount-lag";
    }
  }

  static final class RedeliverNeighboursCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:redeliver-neighbours";
    }
  }

  /** A runtime whose {@code pause()} is only a flag: the member keeps handling deliveries. */
  static final class PauseIgnoredCandidate extends Candidate {
    @Override
    String uri() {
      return "mem:";
    }

    @Override
    public Polybus connect() {
      return new FlawedRuntime(Polybus.connect(uri()), FlawedRuntime.Flaw.PAUSE_IGNORED);
    }
  }

  /** A runtime that swaps the subscription's circuit breaker for one that never opens. */
  static final class BreakerIgnoredCandidate extends Candidate {
    @Override
    String uri() {
      return "mem:";
    }

    @Override
    public Polybus connect() {
      return new FlawedRuntime(Polybus.connect(uri()), FlawedRuntime.Flaw.BREAKER_IGNORED);
    }
  }

  /** A runtime that publishes high-priority messages as normal ones. */
  static final class PriorityIgnoredCandidate extends Candidate {
    @Override
    String uri() {
      return "mem:";
    }

    @Override
    public Polybus connect() {
      return new FlawedRuntime(Polybus.connect(uri()), FlawedRuntime.Flaw.PRIORITY_IGNORED);
    }
  }

  static final class CrossedRepliesCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:crossed-replies";
    }
  }

  static final class DeliversEarlyCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:delivers-early";
    }
  }

  static final class DelayHoldsKeyCandidate extends Candidate {
    @Override
    String uri() {
      return "broken:delay-holds-key";
    }
  }

  /** mem: with a dedupe store that marks before the handler succeeds (idempotency cases). */
  static final class MarksBeforeSuccessCandidate extends Candidate {
    @Override
    String uri() {
      return "mem:";
    }

    @Override
    public ProcessedStore tckProcessedStore() {
      return new MarksBeforeSuccessStore();
    }
  }
}
