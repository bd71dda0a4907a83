package io.polybus.internal;

import io.polybus.CircuitBreaker;
import io.polybus.CircuitBreaker.State;
import io.polybus.Instrumentation;
import io.polybus.Subscription;
import java.util.concurrent.RejectedExecutionException;

/**
 * Not API. The state machine of one subscription's {@link CircuitBreaker}: outcomes of handler
 * attempts in, transitions out (to its {@link HandlerGate}, the listener and the observer).
 *
 * <p>Outcomes are reported at the claim of an attempt ({@link RuntimeDelivery}), on whatever thread
 * settles it, so manual-mode handlers that settle later count too. While closed, every outcome
 * enters the count-based window. While open, outcomes of attempts that started before it opened are
 * ignored. While half open, only trial attempts count: one failure opens again, {@code
 * halfOpenTrials} successes close with an empty window, and a trial that ends neither way (a dead
 * letter the handler chose) returns its permit for another trial.
 *
 * <p>All state is guarded by this object's monitor; the gate, the listener and the observer are
 * called after leaving it.
 */
final class Breaker {
  private static final System.Logger LOG = System.getLogger("io.polybus.runtime");

  /** An outcome that counts against the handler. */
  static final int FAILURE = 1;

  /** An outcome that counts for it. */
  static final int SUCCESS = 2;

  /** An outcome that says nothing about the handler's downstream (a dead letter it chose). */
  static final int NEUTRAL = 3;

  private final CircuitBreaker config;
  private final RuntimeTime time;
  private final Instrumentation.Observer observer;
  private Subscription owner;
  private HandlerGate gate;

  private State state = State.CLOSED;

  /** The window: outcomes in a ring, true = failure. */
  private final boolean[] ring;

  private int next;
  private int calls;
  private int failures;

  /** Half open: trial permits not handed out yet, and trials that succeeded. */
  private int trialsLeft;

  private int trialsSucceeded;

  Breaker(CircuitBreaker config, RuntimeTime time, Instrumentation.Observer observer) {
    this.config = config;
    this.time = time;
    this.observer = observer;
    this.ring = new boolean[config.slidingWindow()];
  }

  void attach(HandlerGate gate) {
    this.gate = gate;
  }

  void owner(Subscription owner) {
    this.owner = owner;
  }

  synchronized State state() {
    return state;
  }

  /**
   * Called by the gate, under its lock, when the breaker is not closed: 0 while open (or half open
   * with every trial permit handed out), else minus the number of trial permits taken (at most
   * {@code wanted}). Closed: {@code wanted}.
   */
  synchronized int tryAdmit(int wanted) {
    switch (state) {
      case CLOSED:
        return wanted;
      case OPEN:
        return 0;
      default:
        int n = Math.min(wanted, trialsLeft);
        trialsLeft -= n;
        return -n;
    }
  }

  /** An attempt ended with {@code outcome}; {@code trial} when it started as a half-open trial. */
  void record(int outcome, boolean trial) {
    State from;
    State to;
    String why;
    boolean permitReturned = false;
    synchronized (this) {
      from = state;
      if (state == State.CLOSED) {
        if (outcome == NEUTRAL) {
          return;
        }
        boolean failed = outcome == FAILURE;
        if (calls == ring.length) {
          if (ring[next]) {
            failures--;
          }
        } else {
          calls++;
        }
        ring[next] = failed;
        next = (next + 1) % ring.length;
        if (failed) {
          failures++;
        }
        if (calls < config.minimumCalls()
            || failures < config.failureRateThreshold() * calls - 1e-9) {
          return;
        }
        why = failures + " of the last " + calls + " attempts failed";
        open();
      } else if (state == State.HALF_OPEN && trial) {
        if (outcome == FAILURE) {
          why = "a half-open trial failed";
          open();
        } else if (outcome == NEUTRAL) {
          trialsLeft++;
          permitReturned = true;
          why = null;
        } else if (++trialsSucceeded >= config.halfOpenTrials()) {
          why = trialsSucceeded + " half-open trials succeeded";
          state = State.CLOSED;
          calls = 0;
          failures = 0;
          next = 0;
        } else {
          return;
        }
      } else {
        return; // open, or not a trial: started before the breaker opened
      }
      to = state;
    }
    if (permitReturned) {
      gate.changed(); // wakes a worker waiting for the returned permit
      return;
    }
    transitioned(from, to, why);
  }

  /** Under the monitor. */
  private void open() {
    state = State.OPEN;
    try {
      time.schedule(this::halfOpen, config.openDuration().toNanos());
    } catch (RejectedExecutionException e) {
      // The bus is closing: the subscription closes with it, open.
    }
  }

  private void halfOpen() {
    synchronized (this) {
      if (state != State.OPEN) {
        return;
      }
      state = State.HALF_OPEN;
      trialsLeft = 0; // no trial before the transition is announced: listeners see it first
      trialsSucceeded = 0;
    }
    announce(State.OPEN, State.HALF_OPEN, "open for " + config.openDuration());
    synchronized (this) {
      if (state == State.HALF_OPEN) {
        trialsLeft = config.halfOpenTrials();
      }
    }
    gate.changed();
  }

  /**
   * Tells the listener, the observer and the log, then the gate: in that order, so that what the
   * gate lets happen next (a trial that closes the breaker) is never heard before this.
   */
  private void transitioned(State from, State to, String why) {
    announce(from, to, why);
    gate.changed();
  }

  private void announce(State from, State to, String why) {
    CircuitBreaker.Listener l = config.listener();
    if (l != null) {
      try {
        l.transitioned(owner, from, to, why);
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () -> "the circuit breaker listener of " + owner + " threw; ignored",
            e);
      }
    }
    if (observer != null) {
      observer.circuitChanged(owner, from, to, why);
    }
    LOG.log(
        to == State.OPEN ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
        () -> "circuit breaker of " + owner + ": " + from + " -> " + to + " (" + why + ")");
  }
}
