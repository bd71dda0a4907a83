package io.polybus.internal;

import io.polybus.CircuitBreaker;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Not API. Whether a handler of one subscription may start now, and whether its poll thread may
 * fetch: the member's {@link io.polybus.Subscription#pause() pause} and its {@link Breaker}, if
 * any. Every handler start of the subscription passes {@link #admit}, so a paused member or an open
 * breaker starts nothing, whatever the source of the delivery (a fresh record, the next one of a
 * key, a retry that came due).
 *
 * <p>Invariant: {@link #open} is true exactly when the member is not paused and the breaker (if
 * any) is closed; it is the lock-free fast path of {@link #admit}, recomputed under {@link #lock}
 * on every change. A handler may start just after a change made the gate shut (it read {@code open}
 * before): pausing stops new starts promptly, not atomically.
 *
 * <p>Lock order: this gate's lock, then the breaker's monitor; the breaker calls {@link #changed()}
 * only after leaving its monitor.
 */
final class HandlerGate {
  /** {@link #admit} returns this when close started: nothing may start any more. */
  static final int STOPPED = 0;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changedCondition = lock.newCondition();
  private final RunState state;
  private final Breaker breaker;
  private final Runnable fetchingAgain;

  private volatile boolean paused;
  private volatile boolean open = true;

  /**
   * @param breaker the subscription's breaker, or null
   * @param fetchingAgain called (on any thread) when fetching may go on after a pause or an open
   *     breaker: wakes the poll thread
   */
  HandlerGate(RunState state, Breaker breaker, Runnable fetchingAgain) {
    this.state = state;
    this.breaker = breaker;
    this.fetchingAgain = fetchingAgain;
    if (breaker != null) {
      breaker.attach(this);
    }
  }

  boolean isPaused() {
    return paused;
  }

  /** True when handlers start without waiting: not paused, and no breaker or a closed one. */
  boolean isOpen() {
    return open;
  }

  void pause() {
    paused = true;
    changed();
  }

  void resume() {
    paused = false;
    changed();
  }

  /** Whether the poll thread may fetch: not paused, and the breaker (if any) not open. */
  boolean fetching() {
    return open || (!paused && breaker != null && breaker.state() != CircuitBreaker.State.OPEN);
  }

  /**
   * Waits until a handler may start with up to {@code wanted} deliveries. Returns {@code wanted}
   * when they start as usual, minus the number of them that may start as half-open trials (at least
   * one, at most {@code wanted}: the caller starts only that many), or {@link #STOPPED} once close
   * started.
   */
  int admit(int wanted) {
    if (open) {
      return wanted;
    }
    lock.lock();
    try {
      while (true) {
        if (state.stopping) {
          return STOPPED;
        }
        if (!paused) {
          if (breaker == null) {
            return wanted;
          }
          int a = breaker.tryAdmit(wanted);
          if (a != 0) {
            return a;
          }
        }
        changedCondition.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Something that decides the gate changed (a pause, a breaker transition, close): recompute. */
  void changed() {
    boolean fetchNow;
    lock.lock();
    try {
      open = !paused && (breaker == null || breaker.state() == CircuitBreaker.State.CLOSED);
      changedCondition.signalAll();
      fetchNow = fetching();
    } finally {
      lock.unlock();
    }
    if (fetchNow) {
      fetchingAgain.run();
    }
  }
}
