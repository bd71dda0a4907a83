package io.polybus.internal;

import io.polybus.BatchHandler;
import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Instrumentation;
import io.polybus.Ordering;
import io.polybus.spi.InboundRecord;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Not API. Key-ordered dispatch: the {@code concurrency} worker threads of one subscription, how
 * records reach them, and their key tables.
 *
 * <h2>Routing</h2>
 *
 * The poll thread hands each record to one worker. Under {@link Ordering#KEY} a key is not pinned
 * to a worker: while a key has records on a worker (routed there and not yet finished: settled,
 * with their handler returned) its next records go to that same worker, which keeps them in order;
 * a key with nothing on any worker goes to the least loaded worker (fewest unfinished keyed records
 * that can run: parked ones and retries in back-off do not count). So keys whose hashes crowd onto
 * one worker no longer queue behind one another while other workers idle. Keyless records and
 * {@link Ordering#NONE} go round-robin. A worker owns its queue and its key table; what it shares
 * is the {@link InFlightWindow}, each delivery's settle state and the routes (a concurrent map of
 * key to worker and count, updated by the poll thread when it routes and by the worker when a
 * record finishes).
 *
 * <p>A due in-place retry goes to the front of its worker's queue: it runs when that worker's
 * current handler returns, not behind the backlog routed there meanwhile.
 *
 * <h2>Key protocol</h2>
 *
 * A worker's key table maps a key to the deliveries of that key waiting behind an unsettled one. A
 * delivery still unsettled when its handler returns "holds" its key (an entry in the table); one
 * that settled during its handler (the common case) never touches the table. A delivery whose key
 * is in the table waits; any other runs at once. When a holder settles, the next waiting delivery
 * of its key runs. A retry attempt inherits the hold of the attempt before it, so a key waiting for
 * its retry holds back its own later messages only.
 *
 * <h2>Batches</h2>
 *
 * With a {@link BatchHandler}, a worker collects the deliveries that are ready to start (by the
 * same key protocol: a delivery in a collected batch holds its key, so a batch never has two of one
 * key) and calls the handler once the batch is full, or once its queue is empty and the oldest
 * waiting delivery has waited {@code maxBatchWait}. After the call every element is looked at as a
 * single delivery is after its handler.
 *
 * <h2>Gate</h2>
 *
 * Every handler start passes the {@link HandlerGate} (pause, circuit breaker), for fresh records,
 * the next delivery of a key and due retries alike; a worker waiting there has flushed its window
 * counter.
 *
 * <h2>Stopping</h2>
 *
 * Once {@link RunState#stopping} is set no handler starts: records a worker still finds in its
 * queue or key table are marked {@link InboundRecord#markNotHandled() not handled}, and so are
 * those of a worker that outlives the drain deadline inside a handler ({@link #abandonStuck}).
 */
final class KeyedDispatch {
  private static final Object STOP = new Object();
  private static final ArrayDeque<RuntimeDelivery> BUSY = new ArrayDeque<>(0);
  private static final long IDLE_EXIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final Worker[] workers;
  private final boolean keyed;
  private final boolean manual;
  private final Handler handler;
  private final BatchHandler batchHandler;
  private final int maxBatch;
  private final long batchWaitNanos;
  private final HandlerGate gate;
  private final SettleRules rules;
  private final BiConsumer<String, Throwable> failForGood;
  private int roundRobin;

  /**
   * Under KEY with more than one worker: key -> the worker its unfinished records are on, and how
   * many. An entry exists exactly while its count is above zero; every change goes through the
   * map's atomic compute, so the poll thread routing a key and a worker finishing its last record
   * never both win.
   */
  private final java.util.concurrent.ConcurrentHashMap<Object, Route> routes;

  /** Where the least-loaded scan starts: rotates, so that ties spread. Poll thread only. */
  private int scanStart;

  /** A key's place: guarded by {@link #routes}' compute on that key. */
  private static final class Route {
    final Worker worker;
    int count;

    Route(Worker worker) {
      this.worker = worker;
    }
  }

  /**
   * @param failForGood called on the worker's thread when a handler throws a fatal error; the
   *     worker then takes nothing more
   */
  KeyedDispatch(
      String name,
      int concurrency,
      Handler handler,
      boolean manual,
      SettleRules rules,
      BiConsumer<String, Throwable> failForGood) {
    this(
        name,
        concurrency,
        handler,
        null,
        1,
        0,
        manual,
        rules,
        new HandlerGate(rules.state, null, () -> {}),
        failForGood);
  }

  /**
   * @param handler the single-delivery handler, or null with a {@code batchHandler}
   * @param batchHandler the batch handler, or null with a {@code handler}
   */
  KeyedDispatch(
      String name,
      int concurrency,
      Handler handler,
      BatchHandler batchHandler,
      int maxBatch,
      long batchWaitNanos,
      boolean manual,
      SettleRules rules,
      HandlerGate gate,
      BiConsumer<String, Throwable> failForGood) {
    this.keyed = rules.keyed;
    this.manual = manual;
    this.handler = handler;
    this.batchHandler = batchHandler;
    this.maxBatch = maxBatch;
    this.batchWaitNanos = batchWaitNanos;
    this.gate = gate;
    this.rules = rules;
    this.failForGood = failForGood;
    this.workers = new Worker[concurrency];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(name + "-worker-" + i, i);
    }
    this.routes = keyed && concurrency > 1 ? new java.util.concurrent.ConcurrentHashMap<>() : null;
  }

  /** Worker {@code index}, never started before {@link #start()}: tests build deliveries on it. */
  Worker worker(int index) {
    return workers[index];
  }

  void start() {
    for (Worker w : workers) {
      w.thread.start();
    }
  }

  /**
   * Hands each record to its worker, as arrays of records: the worker wraps them in deliveries
   * itself, so that the poll thread, which also does the backend's fetching and decoding and so
   * bounds the subscription's throughput, does as little per record as it can. Poll thread only.
   */
  void route(List<InboundRecord> records) {
    int n = workers.length;
    if (n == 1) {
      workers[0].queue.add(records.toArray(new InboundRecord[0]));
      return;
    }
    @SuppressWarnings("unchecked")
    List<InboundRecord>[] batches = new List[n];
    for (InboundRecord r : records) {
      Object key = keyed ? r.orderingKey() : null;
      int w = key != null ? routeKey(key) : (roundRobin++ & 0x7fffffff) % n;
      if (batches[w] == null) {
        batches[w] = new ArrayList<>();
      }
      batches[w].add(r);
    }
    for (int i = 0; i < n; i++) {
      if (batches[i] != null) {
        workers[i].queue.add(batches[i].toArray(new InboundRecord[0]));
      }
    }
  }

  /** The worker for one more record of {@code key}; counts it there. Poll thread only. */
  private int routeKey(Object key) {
    Route r =
        routes.compute(
            key,
            (k, old) -> {
              Route live = old != null ? old : new Route(leastLoaded());
              live.count++;
              return live;
            });
    r.worker.load.incrementAndGet();
    return r.worker.index;
  }

  /** The worker with the fewest unfinished keyed records; the first idle one found wins. */
  private Worker leastLoaded() {
    int n = workers.length;
    int start = scanStart;
    scanStart = start + 1 == n ? 0 : start + 1;
    Worker best = null;
    int bestLoad = Integer.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      Worker w = workers[(start + i) % n];
      int load = w.load.get();
      if (load < bestLoad) {
        best = w;
        bestLoad = load;
        if (load == 0) {
          break;
        }
      }
    }
    return best;
  }

  /**
   * A keyed record is done on {@code w}: settled and its handler returned. When it was its key's
   * last there, the key may go to any worker next. Any thread; at most once per record.
   */
  private void finished(Object key, Worker w) {
    if (routes == null) {
      return;
    }
    w.load.decrementAndGet();
    routes.computeIfPresent(key, (k, r) -> --r.count == 0 ? null : r);
  }

  /**
   * Tells every worker to stop once its current handler returns. {@link RunState#stopping} first.
   */
  void signalStop() {
    for (Worker w : workers) {
      w.queue.add(STOP);
    }
  }

  /** Waits until every worker but the calling thread has exited, at most until the deadline. */
  boolean awaitExit(long deadlineNanos) {
    boolean all = true;
    Thread self = Thread.currentThread();
    for (Worker w : workers) {
      if (w.thread != self) {
        all &= join(w.thread, deadlineNanos);
      }
    }
    return all;
  }

  /**
   * After the drain deadline: marks what the workers will never start as not handled, and
   * interrupts the workers still inside a handler. Records routed after a worker took its STOP (the
   * poll thread raced with close), or queued behind a handler that outlived the deadline, were
   * never started either. A stuck worker's key table is its own: deliveries waiting there count, a
   * documented edge.
   */
  void abandonStuck() {
    Thread self = Thread.currentThread();
    for (Worker w : workers) {
      if (w.thread.isAlive() && w.thread != self) {
        SubscriptionRuntime.markNotHandled(w.unstartedOfStuckBatch());
        w.thread.interrupt();
      }
    }
    for (Worker w : workers) {
      List<Object> left = new ArrayList<>();
      w.queue.drainTo(left);
      for (Object item : left) {
        if (item instanceof InboundRecord[]) {
          SubscriptionRuntime.markNotHandled(Arrays.asList((InboundRecord[]) item));
        } else if (item == STOP) {
          w.queue.add(STOP); // a stuck worker still exits when its handler returns
        }
      }
    }
  }

  private static boolean join(Thread t, long deadlineNanos) {
    // An idle worker needs a moment to take its STOP even when the deadline has passed already.
    long left = Math.max(deadlineNanos - System.nanoTime(), IDLE_EXIT_NANOS);
    try {
      TimeUnit.NANOSECONDS.timedJoin(t, left);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !t.isAlive();
  }

  /**
   * A handler thread with its own queue and key table. Only its own thread touches {@link
   * #blocked}, {@link #settledHere} and {@link RuntimeDelivery#holdsKey}.
   */
  final class Worker implements Runnable {
    final LinkedBlockingDeque<Object> queue = new LinkedBlockingDeque<>();
    final Thread thread;

    /**
     * Keyed records routed here, not yet finished (see {@link KeyedDispatch#routes}), and able to
     * run: those parked behind their key's holder or waiting for their retry's back-off are not
     * counted, since they keep no handler busy, and a worker holding many of them would otherwise
     * get too few new keys and run out of work while the others still have a backlog.
     */
    final java.util.concurrent.atomic.AtomicInteger load =
        new java.util.concurrent.atomic.AtomicInteger();

    /** This worker's counter in the {@link InFlightWindow}. */
    final int index;

    /** Key -> deliveries waiting behind the one holding it; {@link #BUSY} when nobody waits. */
    private final HashMap<Object, ArrayDeque<RuntimeDelivery>> blocked = new HashMap<>();

    /** Deliveries released on this worker's own thread, looked at after the current handler. */
    private final ArrayDeque<RuntimeDelivery> settledHere = new ArrayDeque<>();

    /** The delivery whose handler is running on this thread, or null. */
    private RuntimeDelivery current;

    /** Batch mode: deliveries ready to start, for the next batch, in the order they got ready. */
    private final ArrayList<RuntimeDelivery> pending = new ArrayList<>();

    /** Batch mode: when the oldest pending delivery has waited {@code maxBatchWait}. */
    private long batchDeadline;

    /**
     * The batch of records this worker is dispatching, or null, and the index of the one it
     * dispatches now: written by this thread with release stores (plain stores on x86), read by
     * close when this thread outlives the drain deadline inside a handler, to mark the records
     * after it as never handled.
     */
    private InboundRecord[] batch;

    private int cursor;

    Worker(String name, int index) {
      this.index = index;
      this.thread = new Thread(this, name);
      thread.setDaemon(true);
    }

    boolean isOwnThread() {
      return Thread.currentThread() == thread;
    }

    /**
     * Queues a due in-place retry (its key is held for it already) at the front: it runs next, not
     * behind what was routed here while it waited. Any thread.
     */
    void enqueue(RuntimeDelivery next) {
      if (next.key() != null) {
        busy();
      }
      queue.addFirst(next);
    }

    /**
     * An in-place retry of a keyed record waits for its back-off: while it waits it is no work for
     * this worker (see {@link #load}). Any thread.
     */
    void retryWaiting(RuntimeDelivery d) {
      if (d.key() != null) {
        idle();
      }
    }

    /** A keyed record routed here can run again (unparked, or its retry came due). */
    private void busy() {
      if (routes != null) {
        load.incrementAndGet();
      }
    }

    /** A keyed record routed here cannot run for now: parked behind its key, or in back-off. */
    private void idle() {
      if (routes != null) {
        load.decrementAndGet();
      }
    }

    @Override
    public void run() {
      RunState state = rules.state;
      InFlightWindow window = rules.window;
      try {
        while (true) {
          Object item = queue.poll();
          if (item == null && !pending.isEmpty()) {
            long left = batchDeadline - System.nanoTime();
            if (left > 0) {
              window.flushIdle(index);
              try {
                item = queue.poll(left, TimeUnit.NANOSECONDS);
              } catch (InterruptedException e) {
                if (state.stopping) {
                  return;
                }
                continue;
              }
            }
            if (item == null) {
              runBatch();
              continue;
            }
          }
          if (item == null) {
            // Going idle: a parked poller waiting for a batch of room should not wait its timeout.
            window.flushIdle(index);
            try {
              item = queue.take();
            } catch (InterruptedException e) {
              if (state.stopping) {
                return; // close() gave up waiting for this worker
              }
              continue; // not ours to obey: only close() stops a worker
            }
          }
          if (item == STOP) {
            markWaitingNotHandled();
            return;
          }
          if (state.stopping) {
            // Not started: consumer.close() gives it back to the group, and it does not count.
            if (item instanceof InboundRecord[]) {
              SubscriptionRuntime.markNotHandled(Arrays.asList((InboundRecord[]) item));
            }
            continue;
          }
          if (item instanceof InboundRecord[]) {
            InboundRecord[] records = (InboundRecord[]) item;
            BATCH.setRelease(this, records);
            for (int i = 0; i < records.length; i++) {
              CURSOR.setRelease(this, i); // before the check: see unstartedOfStuckBatch()
              if (state.stopping) {
                SubscriptionRuntime.markNotHandled(
                    Arrays.asList(records).subList(i, records.length));
                break;
              }
              dispatch(new RuntimeDelivery(records[i], records[i].deliveryCount(), this, rules));
              if (pending.size() >= maxBatch) {
                runBatch();
              }
            }
            BATCH.setRelease(this, null);
          } else {
            RuntimeDelivery d = (RuntimeDelivery) item;
            if (d.released) {
              releasedElsewhere(d);
            } else {
              // A due in-place retry; its key is held for it already.
              d.dueRetry = true;
              ready(d, true);
            }
          }
          if (pending.size() >= maxBatch) {
            runBatch();
          }
        }
      } catch (FatalHandlerError e) {
        // failForGood has run: this worker takes nothing more
      }
    }

    private void dispatch(RuntimeDelivery d) {
      if (keyed) {
        Object key = d.key();
        if (key != null) {
          ArrayDeque<RuntimeDelivery> waiting = blocked.get(key);
          if (waiting != null) {
            if (waiting == BUSY) {
              waiting = new ArrayDeque<>(4);
              blocked.put(key, waiting);
            }
            waiting.add(d);
            idle(); // parked: no work for this worker until its key's holder settles
            return;
          }
        }
      }
      ready(d, false);
    }

    /**
     * {@code d} may start (its key, if any, is free or held for it): at once, or in batch mode in
     * the next batch, holding its key meanwhile.
     */
    private void ready(RuntimeDelivery d, boolean keyHeld) {
      if (batchHandler == null) {
        attempt(d, keyHeld);
        return;
      }
      Object key = keyed ? d.key() : null;
      if (key != null && !keyHeld) {
        blocked.put(key, BUSY);
      }
      if (pending.isEmpty()) {
        batchDeadline = System.nanoTime() + batchWaitNanos;
      }
      pending.add(d);
    }

    /**
     * Waits at the gate for {@code d} to start; false when close started first, {@code d} then
     * never started (not counted, unless it is a retry whose attempt counted already). A due
     * in-place retry notes its attempt only now, before its handler sees it, so a member dying
     * inside this attempt does not make the next member repeat its number.
     */
    private boolean admit(RuntimeDelivery d) {
      int a = gate.isOpen() ? 1 : admitSlow(1);
      if (a == HandlerGate.STOPPED) {
        if (!d.dueRetry) {
          d.record.markNotHandled();
        }
        return false;
      }
      d.trial = a < 0;
      if (d.dueRetry) {
        d.dueRetry = false;
        d.record.recordAttempts(d.attempt);
      }
      return true;
    }

    private int admitSlow(int wanted) {
      rules.window.flush(index); // waiting may be long: the poller should see the room freed here
      return gate.admit(wanted);
    }

    /**
     * Batch mode: calls the batch handler with the pending deliveries (up to {@code maxBatch}, or
     * as many as the half-open breaker allows), then looks at every element as {@link #attempt}
     * looks at a single delivery.
     */
    private void runBatch() {
      if (pending.isEmpty() || rules.state.stopping) {
        return;
      }
      int wanted = Math.min(pending.size(), maxBatch);
      int a = gate.isOpen() ? wanted : admitSlow(wanted);
      if (a == HandlerGate.STOPPED) {
        return; // markWaitingNotHandled() sees the pending ones
      }
      boolean trial = a < 0;
      int n = Math.abs(a);
      List<RuntimeDelivery> taken = new ArrayList<>(pending.subList(0, n));
      pending.subList(0, n).clear();
      if (!pending.isEmpty()) {
        batchDeadline = System.nanoTime(); // already waited: next in line
      }
      List<RuntimeDelivery> handed = new ArrayList<>(n);
      Instrumentation.Observer o = rules.observer;
      for (RuntimeDelivery d : taken) {
        d.trial = trial;
        if (d.dueRetry) {
          d.dueRetry = false;
          d.record.recordAttempts(d.attempt);
        }
        if (d.deadLetterIfOverDelivered()) {
          returnTrial(d);
          continue;
        }
        d.inRunningBatch = true;
        if (o != null) {
          d.observed = o.attempting(d, d.record.partition());
        }
        handed.add(d);
      }
      if (!handed.isEmpty()) {
        invokeBatch(handed);
      }
      for (RuntimeDelivery d : taken) {
        Object key = keyed ? d.key() : null;
        if (key != null) {
          if (!d.released) {
            d.holdsKey = true;
          } else {
            finished(key, this);
            RuntimeDelivery next = nextOf(key);
            if (next != null) {
              ready(next, true);
            }
          }
        }
      }
      drainSettledHere();
    }

    private void invokeBatch(List<RuntimeDelivery> handed) {
      @SuppressWarnings("unchecked")
      List<Delivery> view = (List<Delivery>) (List<?>) Collections.unmodifiableList(handed);
      try {
        batchHandler.handle(view);
        if (!manual) {
          for (RuntimeDelivery d : handed) {
            if (!d.isSettled() && !d.ack() && !d.isSettled()) {
              d.observeGivenBack();
            }
          }
        }
      } catch (Throwable t) {
        if (isFatal(t)) {
          failForGood.accept(
              "a batch handler threw " + SubscriptionRuntime.describe(t) + " on " + handed, t);
          throw new FatalHandlerError();
        }
        for (RuntimeDelivery d : handed) {
          if (!d.isSettled()) {
            d.fail(t);
            if (!d.isSettled()) {
              d.observeGivenBack();
            }
          }
        }
      } finally {
        for (RuntimeDelivery d : handed) {
          d.inRunningBatch = false;
        }
        if (!rules.state.stopping) {
          Thread.interrupted();
        }
      }
    }

    /** A trial that ran no handler (dead-lettered as over-delivered) gives its permit back. */
    private void returnTrial(RuntimeDelivery d) {
      if (d.trial && rules.breaker != null) {
        rules.breaker.record(Breaker.NEUTRAL, true);
      }
    }

    /** Runs one attempt, then takes, keeps or gives up the key hold according to how it settled. */
    private void attempt(RuntimeDelivery d, boolean keyHeld) {
      while (d != null) {
        if (!admit(d)) {
          return; // close started: the key table stays as it is, for markWaitingNotHandled()
        }
        current = d;
        try {
          invoke(d);
        } finally {
          current = null;
        }
        RuntimeDelivery next = null;
        Object key = keyed ? d.key() : null;
        if (key != null) {
          if (!d.released) {
            if (!keyHeld) {
              blocked.put(key, BUSY);
            }
            d.holdsKey = true;
          } else {
            finished(key, this);
            if (keyHeld) {
              next = nextOf(key);
            }
          }
        }
        drainSettledHere();
        d = next;
        keyHeld = true;
      }
    }

    /**
     * The holder of {@code key} settled: removes the hold and returns the next waiting delivery, if
     * any. While stopping, nothing more starts and the table stays as it is, for {@link
     * #markWaitingNotHandled()}.
     */
    private RuntimeDelivery nextOf(Object key) {
      if (rules.state.stopping) {
        return null;
      }
      ArrayDeque<RuntimeDelivery> waiting = blocked.get(key);
      RuntimeDelivery next = waiting == null || waiting == BUSY ? null : waiting.poll();
      if (next == null) {
        blocked.remove(key);
      } else {
        busy(); // unparked: runs on this worker now
        if (waiting.isEmpty()) {
          blocked.put(key, BUSY);
        }
      }
      return next;
    }

    /** On the way out: the deliveries still waiting behind a key were never started. */
    private void markWaitingNotHandled() {
      for (RuntimeDelivery d : pending) {
        if (!d.dueRetry) {
          d.record.markNotHandled();
        }
      }
      pending.clear();
      for (ArrayDeque<RuntimeDelivery> waiting : blocked.values()) {
        for (RuntimeDelivery d : waiting) {
          d.record.markNotHandled();
        }
      }
      blocked.clear();
    }

    /** A delivery was released on another thread (or later on this one). */
    private void releasedElsewhere(RuntimeDelivery d) {
      if (d.holdsKey) {
        d.holdsKey = false;
        finished(d.key(), this);
        RuntimeDelivery next = nextOf(d.key());
        if (next != null) {
          ready(next, true);
        }
      }
    }

    private void drainSettledHere() {
      RuntimeDelivery d;
      while ((d = settledHere.poll()) != null && !rules.state.stopping) {
        releasedElsewhere(d);
      }
    }

    /**
     * Called by close for a worker still inside a handler after the drain deadline: the records of
     * its batch after the one it is dispatching, which it will never start (it checks {@code
     * stopping}, set long before, after each cursor store and before each start). Empty when the
     * batch changed while being read: those records then count, the safe side.
     */
    List<InboundRecord> unstartedOfStuckBatch() {
      InboundRecord[] b = (InboundRecord[]) BATCH.getAcquire(this);
      int c = (int) CURSOR.getAcquire(this);
      if (b == null || BATCH.getAcquire(this) != b) {
        return List.of();
      }
      return Arrays.asList(b).subList(Math.min(c + 1, b.length), b.length);
    }

    /** Called on whatever thread released {@code d}. */
    void onReleased(RuntimeDelivery d) {
      if (Thread.currentThread() == thread) {
        if (current != d && !d.inRunningBatch) {
          settledHere.add(d); // e.g. a handler acking an earlier delivery it kept
        }
        // else: attempt() or runBatch() looks at d.released when the handler returns
      } else {
        queue.add(d);
      }
    }

    private void invoke(RuntimeDelivery d) {
      if (d.deadLetterIfOverDelivered()) {
        returnTrial(d);
        return;
      }
      Instrumentation.Observer o = rules.observer;
      if (o != null) {
        d.observed = o.attempting(d, d.record.partition());
      }
      try {
        if (d.observed == null) {
          handler.handle(d);
        } else {
          try (Instrumentation.Scope scope = d.observed.enter()) {
            handler.handle(d);
          }
        }
        if (!manual && !d.ack() && !d.isSettled()) {
          d.observeGivenBack();
        }
      } catch (Throwable t) {
        if (isFatal(t)) {
          failForGood.accept("a handler threw " + SubscriptionRuntime.describe(t) + " on " + d, t);
          throw new FatalHandlerError();
        }
        if (!d.isSettled()) {
          d.fail(t);
          if (!d.isSettled()) {
            d.observeGivenBack();
          }
        }
      } finally {
        // A handler that set this thread's interrupt flag (or left it set by an interrupted call)
        // must not stop the worker at its next take(): the flag belongs to the handler's work.
        if (!rules.state.stopping) {
          Thread.interrupted();
        }
      }
    }
  }

  /**
   * Whether a handler's throwable leaves the JVM in a state in which handling more messages cannot
   * be trusted. A {@link StackOverflowError} is not: the stack has unwound, and it is the handler's
   * own failure, so it counts as a failed attempt like any exception.
   */
  private static boolean isFatal(Throwable t) {
    return t instanceof VirtualMachineError && !(t instanceof StackOverflowError);
  }

  /** Unwinds a worker whose handler threw a fatal error, after the failure hook has run. */
  private static final class FatalHandlerError extends Error {
    FatalHandlerError() {
      super(null, null, false, false);
    }
  }

  private static final VarHandle BATCH;
  private static final VarHandle CURSOR;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      BATCH = lookup.findVarHandle(Worker.class, "batch", InboundRecord[].class);
      CURSOR = lookup.findVarHandle(Worker.class, "cursor", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
