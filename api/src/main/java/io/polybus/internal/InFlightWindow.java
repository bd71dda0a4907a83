package io.polybus.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Not API. The hard bound on the deliveries one subscription holds unsettled ({@code maxInFlight}).
 *
 * <p>Invariant: {@code taken - Σ unflushed[w] <= max}, where {@code taken} counts the records the
 * poll thread took (before handing them to workers) minus the slots given back to it, and {@code
 * unflushed[w]} the slots worker {@code w} freed on its own thread and not yet given back. The poll
 * thread asks the backend for at most {@link #room()} records, so no more than {@code max} are ever
 * held.
 *
 * <p>Threads and memory ordering: {@link #room()} and {@link #take(int)} run on the poll thread
 * only. A worker frees slots of its own settlements with {@link #freedBy(int)}, a plain increment
 * published with a release store (no fence per record: an atomic decrement of the shared counter
 * per ack took over a third of a worker's time in a Kafka consume profile), and gives them back in
 * batches with {@link #flush(int)}, which zeroes its count before it subtracts it from {@code
 * taken}; {@code room()} reads {@code taken} first, then each count with acquire loads, so a
 * subtraction it sees implies the zero, and no slot is counted twice (one between the two steps is
 * counted not at all: harmless, it shows up at the next call). Settlements on other threads use
 * {@link #freeShared()}. A blocked handler never hides room from the poller: its worker's freed
 * slots are visible without a flush.
 *
 * <p>The poller parks when the window is full ({@link #awaitRoom}); a flush or a shared free wakes
 * it only once a useful batch of room is free, not on every settlement, and a parked poller makes
 * workers flush at once. How large a batch depends on how fast records settle: a wake-up costs the
 * poller tens of microseconds, so where handlers settle a record in tens of nanoseconds the poller
 * waits for half the window ({@link #wakeThreshold}: mem: end-to-end 8.3M msg/s with 256 of 4096
 * slots, 10-11M with half); where they take milliseconds, waiting for half would leave records that
 * became ready meanwhile unfetched for as long, so once the poller has been parked {@link
 * #PATIENCE_NANOS} a quarter of the window, at most 256 slots, is enough ({@link
 * #slowWakeThreshold}). A worker that runs out of work wakes a parked poller as soon as any slot is
 * free ({@link #flushIdle}): it waits for exactly that.
 */
final class InFlightWindow {
  /** At most this many slots freed on a worker's thread wait there before they are given back. */
  static final int FLUSH_BATCH = 128;

  /** Workers' counters are this many ints (64 bytes) apart, so no two share a cache line. */
  private static final int STRIDE = 16;

  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(int[].class);

  private final int max;
  private final int wakeThreshold;
  private final int slowWakeThreshold;

  /** How long a parked poller waits for half the window before a smaller batch wakes it. */
  static final long PATIENCE_NANOS = java.util.concurrent.TimeUnit.MICROSECONDS.toNanos(100);

  /** When the poller parked ({@link System#nanoTime()}), written before {@link #pollerParked}. */
  private volatile long parkedSince;

  private final AtomicInteger taken = new AtomicInteger();
  private final int[] unflushed;
  private volatile boolean pollerParked;
  private volatile Thread poller;

  InFlightWindow(int max, int workers) {
    this.max = max;
    this.wakeThreshold = max - Math.max(1, max / 2);
    this.slowWakeThreshold = max - Math.max(1, Math.min(max / 4, 256));
    this.unflushed = new int[(workers + 2) * STRIDE];
  }

  /** The slots free now. Poll thread only. */
  int room() {
    int free = max - taken.get(); // first: see the class doc
    for (int i = STRIDE; i < unflushed.length - STRIDE; i += STRIDE) {
      free += (int) SLOT.getAcquire(unflushed, i);
    }
    return free;
  }

  /**
   * The slots held now, for monitoring from any thread: a snapshot that may count a slot being
   * given back as still held for an instant, never one less.
   */
  int held() {
    return Math.max(0, Math.min(max, max - room()));
  }

  /** The poll thread took {@code n} records. */
  void take(int n) {
    taken.addAndGet(n);
  }

  /**
   * One slot freed on a thread that is not a worker's (a timer, the backend's, an application's).
   */
  void freeShared() {
    wakeIfWorthIt(taken.decrementAndGet());
  }

  /** One slot freed on worker {@code worker}'s own thread. */
  void freedBy(int worker) {
    int i = (worker + 1) * STRIDE;
    int n = (int) SLOT.get(unflushed, i) + 1; // plain: only this thread writes its count
    SLOT.setRelease(unflushed, i, n);
    if (n >= FLUSH_BATCH || pollerParked) {
      flush(worker);
    }
  }

  /**
   * Gives worker {@code worker}'s freed slots back, waking a parked poller once a batch of room is
   * free.
   */
  void flush(int worker) {
    int i = (worker + 1) * STRIDE;
    int n = (int) SLOT.get(unflushed, i);
    if (n == 0) {
      return;
    }
    SLOT.setRelease(unflushed, i, 0); // before the subtraction: see room()
    wakeIfWorthIt(taken.addAndGet(-n));
  }

  /**
   * Wakes a parked poller if {@code held} slots still taken leave it a useful batch (see above).
   */
  private void wakeIfWorthIt(int held) {
    if (held <= slowWakeThreshold
        && pollerParked
        && (held <= wakeThreshold || System.nanoTime() - parkedSince >= PATIENCE_NANOS)) {
      LockSupport.unpark(poller);
    }
  }

  /**
   * Worker {@code worker} has nothing to run: gives its freed slots back and wakes a parked poller
   * if any room is free at all, not only a batch of it.
   */
  void flushIdle(int worker) {
    flush(worker);
    if (pollerParked && taken.get() < max) {
      LockSupport.unpark(poller);
    }
  }

  /**
   * Parks the poll thread for at most {@code nanos} while the window is full and {@code running}
   * holds; settlements wake it once a batch of room is free, and the bounded park picks up smaller
   * room too.
   */
  void awaitRoom(long nanos, BooleanSupplier running) {
    poller = Thread.currentThread();
    parkedSince = System.nanoTime();
    pollerParked = true;
    try {
      if (room() <= 0 && running.getAsBoolean()) {
        LockSupport.parkNanos(this, Math.max(1, nanos));
      }
    } finally {
      pollerParked = false;
    }
  }
}
