package io.polybus.internal;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusException;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;

/**
 * Not API. The shared delivery runtime of one subscription: the rules every backend inherits.
 *
 * <h2>Threads</h2>
 *
 * One poll thread asks the {@link BackendConsumer} for at most as many records as the in-flight
 * window has room for, and routes each to one of {@code concurrency} worker threads: by key hash
 * under {@link Ordering#KEY} (so a key always lands on the same worker), round-robin otherwise.
 * Each worker owns its queue and its key table; the only shared mutable state is the {@link
 * InFlightWindow} and each delivery's settle flag. Dead letters go out through the {@link
 * DeadLetterPublisher}; delays run on the bus's {@link RuntimeTime}.
 *
 * <h2>Closing</h2>
 *
 * {@link #close(Duration)} stops polling, lets running handlers and dead-letter sends finish until
 * the deadline, marks every record no handler started ({@link InboundRecord#markNotHandled()}),
 * then gives everything unsettled back with {@code consumer.close()}; settle calls after that
 * return false. A fatal error fails the subscription for good the same way ({@link #failForGood}),
 * leaving it registered so the bus's health says so.
 *
 * <h2>Per-key ordering under retries</h2>
 *
 * A worker's key table maps a key to the deliveries of that key waiting behind an unsettled one. A
 * delivery whose key is in the table waits; any other runs at once. A failed delivery waiting for
 * its retry keeps its key in the table, so it holds back later messages of that key only. Retries
 * under KEY ordering are always done in place (the record stays leased) because releasing it to the
 * broker would let its successors overtake it.
 *
 * <h2>Settling</h2>
 *
 * Every record is settled once: ack, native release (NONE ordering on a backend with native delayed
 * retry), or dead-lettered (publish to the dead-letter topic, then ack). Only these free an
 * in-flight slot. A record that arrives with a delivery count above {@code maxAttempts} (its
 * earlier consumers died) is dead-lettered without calling the handler.
 */
final class SubscriptionRuntime implements Subscription {
  private static final System.Logger LOG = System.getLogger("io.polybus.runtime");

  /**
   * The most records asked of the backend at once. Each poll's records go to the workers in one
   * hand-over, and a hand-over that wakes an idle worker may preempt the poll thread: larger
   * batches of a backlog mean fewer of them.
   */
  private static final int MAX_POLL_BATCH = 2048;

  private static final long IDLE_EXIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final Object STOP = new Object();

  private final DefaultPolybus bus;
  private final BackendConsumer consumer;
  private final ConsumerSpec spec;
  private final Handler handler;
  private final RetryPolicy policy;
  private final boolean manual;
  private final boolean keyed;
  private final boolean releaseNatively;
  private final String deadLetterTopic;
  private final RuntimeTime time;
  private final Duration pollTimeout;
  private final long heartbeatNanos;

  private final Worker[] workers;
  private final Thread pollThread;
  private final InFlightWindow window;

  /** Sends the dead letters; close waits for those under way within its deadline. */
  private final DeadLetterPublisher deadLetters;

  private volatile boolean running = true;
  private volatile boolean stopping;

  /**
   * Set just before {@code consumer.close()} gives the unsettled records back: from then on a
   * settle call returns false, because the backend ignores it and the record will be delivered
   * again.
   */
  private volatile boolean givenBack;

  /** Why this subscription failed for good (a fatal error in a handler), or null. */
  private volatile String failure;

  /** The latest poll failure that retrying cannot cure (cleared by a good poll), or null. */
  private volatile String pollTrouble;

  private int roundRobin;

  SubscriptionRuntime(
      DefaultPolybus bus,
      BackendConsumer consumer,
      ConsumerSpec spec,
      Handler handler,
      SubscribeOptions options,
      String deadLetterTopic) {
    this.bus = bus;
    this.consumer = consumer;
    this.spec = spec;
    this.handler = handler;
    this.policy = options.retryPolicy();
    this.manual = options.ackMode() == AckMode.MANUAL;
    this.keyed = spec.ordering() == Ordering.KEY;
    this.releaseNatively = !keyed && bus.capabilities().nativeDelayedRetry();
    this.deadLetterTopic = deadLetterTopic;
    this.time = bus.time();
    this.deadLetters =
        new DeadLetterPublisher(bus.backend(), spec, deadLetterTopic, time, () -> stopping);
    this.window = new InFlightWindow(options.maxInFlight(), options.concurrency());
    long third = options.ackTimeout().toNanos() / 3;
    this.heartbeatNanos = third;
    this.pollTimeout = Duration.ofNanos(Math.min(third, TimeUnit.MILLISECONDS.toNanos(500)));
    String name = "polybus-" + spec.topic() + "-" + spec.group();
    this.workers = new Worker[options.concurrency()];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(name + "-worker-" + i, i);
    }
    this.pollThread = new Thread(this::pollLoop, name + "-poll");
    pollThread.setDaemon(true);
  }

  void start() {
    for (Worker w : workers) {
      w.thread.start();
    }
    pollThread.start();
  }

  @Override
  public String topic() {
    return spec.topic();
  }

  @Override
  public String group() {
    return spec.group();
  }

  @Override
  public boolean isActive() {
    return running;
  }

  // ---------------------------------------------------------------- polling

  private void pollLoop() {
    long backoffMillis = 0;
    long lastPoll = time.nanoTime();
    while (running) {
      try {
        int free = window.room();
        if (free <= 0) {
          window.awaitRoom(
              Math.min(MAX_PARK_NANOS, heartbeatNanos - (time.nanoTime() - lastPoll)),
              () -> running);
          if (window.room() <= 0 && time.nanoTime() - lastPoll >= heartbeatNanos) {
            consumer.poll(0, Duration.ZERO); // heartbeat: the member is alive, just full
            lastPoll = time.nanoTime();
          }
          continue;
        }
        List<InboundRecord> records = consumer.poll(Math.min(free, MAX_POLL_BATCH), pollTimeout);
        lastPoll = time.nanoTime();
        backoffMillis = 0;
        if (pollTrouble != null) {
          pollTrouble = null;
          LOG.log(System.Logger.Level.INFO, () -> "poll of " + this + " works again");
        }
        if (!running) {
          // Polled after close started: consumer.close() gives them back, and no handler saw them.
          markNotHandled(records);
          continue;
        }
        if (records.isEmpty()) {
          continue;
        }
        window.take(records.size());
        route(records);
      } catch (InterruptedException e) {
        if (!running) {
          break;
        }
      } catch (RuntimeException e) {
        if (!running) {
          break;
        }
        backoffMillis = backoffMillis == 0 ? 100 : Math.min(backoffMillis * 2, 5000);
        long wait = backoffMillis;
        boolean transientFailure =
            e instanceof PolybusException && ((PolybusException) e).isTransient();
        if (!transientFailure) {
          // Retrying goes on (an operator may repair the cause), but health() says so until a poll
          // works again.
          pollTrouble = "polling fails: " + describe(e);
        }
        LOG.log(
            transientFailure ? System.Logger.Level.INFO : System.Logger.Level.ERROR,
            () -> "poll of " + this + " failed, retrying in " + wait + " ms: " + e,
            e);
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(backoffMillis));
      } catch (Error e) {
        // The poll thread must not die silently: a subscription that takes no more records fails
        // visibly.
        failForGood("its backend's poll threw " + describe(e), e);
        return;
      }
    }
  }

  /**
   * Hands each record to its worker, as arrays of records: the worker wraps them in deliveries
   * itself, so that the poll thread, which also does the backend's fetching and decoding and so
   * bounds the subscription's throughput, does as little per record as it can.
   */
  private void route(List<InboundRecord> records) {
    int n = workers.length;
    if (n == 1) {
      workers[0].queue.add(records.toArray(new InboundRecord[0]));
      return;
    }
    @SuppressWarnings("unchecked")
    List<InboundRecord>[] batches = new List[n];
    for (InboundRecord r : records) {
      Object key = keyed ? r.orderingKey() : null;
      int w =
          key != null ? Math.floorMod(spread(key.hashCode()), n) : (roundRobin++ & 0x7fffffff) % n;
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

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }

  // ---------------------------------------------------------------- workers

  /**
   * A handler thread with its own queue and key table. Only its own thread touches {@link
   * #blocked}, {@link #settledHere} and {@link DeliveryImpl#holdsKey}.
   *
   * <p>Key protocol: a delivery that is still unsettled when its handler returns "holds" its key
   * (an entry in {@link #blocked}); one that settled during its handler (the common case) never
   * touches the table. When a holding delivery settles, the next waiting delivery of its key runs.
   * A retry attempt inherits the hold of the attempt before it.
   */
  private final class Worker implements Runnable {
    final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    final Thread thread;

    /** This worker's counter in the {@link InFlightWindow}. */
    final int index;

    /** Key -> deliveries waiting behind the one holding it; {@link #BUSY} when nobody waits. */
    private final HashMap<Object, ArrayDeque<DeliveryImpl>> blocked = new HashMap<>();

    /**
     * Deliveries released on this worker's own thread, looked at after the current handler returns.
     */
    private final ArrayDeque<DeliveryImpl> settledHere = new ArrayDeque<>();

    /** The delivery whose handler is running on this thread, or null. */
    private DeliveryImpl current;

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

    @Override
    public void run() {
      try {
        while (true) {
          Object item = queue.poll();
          if (item == null) {
            window.flush(
                index); // going idle: a parked poller waiting for a batch of room should not wait
            // its timeout
            try {
              item = queue.take();
            } catch (InterruptedException e) {
              if (stopping) {
                return; // close() gave up waiting for this worker
              }
              continue; // not ours to obey: only close() stops a worker
            }
          }
          if (item == STOP) {
            markWaitingNotHandled();
            return;
          }
          if (stopping) {
            // Not started: consumer.close() gives it back to the group, and this delivery does not
            // count.
            if (item instanceof InboundRecord[]) {
              markNotHandled(Arrays.asList((InboundRecord[]) item));
            }
            continue;
          }
          if (item instanceof InboundRecord[]) {
            InboundRecord[] batch = (InboundRecord[]) item;
            BATCH.setRelease(this, batch);
            for (int i = 0; i < batch.length; i++) {
              CURSOR.setRelease(this, i); // before the check: see unstartedOfStuckBatch()
              if (stopping) {
                markNotHandled(Arrays.asList(batch).subList(i, batch.length));
                break;
              }
              dispatch(new DeliveryImpl(batch[i], batch[i].deliveryCount(), this));
            }
            BATCH.setRelease(this, null);
          } else {
            DeliveryImpl d = (DeliveryImpl) item;
            if (d.released) {
              releasedElsewhere(d);
            } else {
              // A due in-place retry (its key is held for it already). Note the attempt before the
              // handler sees
              // it, so a member dying inside this attempt does not make the next member repeat its
              // number.
              d.record.recordAttempts(d.attempt);
              attempt(d, true);
            }
          }
        }
      } catch (FatalHandlerError e) {
        // failForGood has run: this worker takes nothing more
      }
    }

    private void dispatch(DeliveryImpl d) {
      if (keyed) {
        Object key = d.key();
        if (key != null) {
          ArrayDeque<DeliveryImpl> waiting = blocked.get(key);
          if (waiting != null) {
            if (waiting == BUSY) {
              waiting = new ArrayDeque<>(4);
              blocked.put(key, waiting);
            }
            waiting.add(d);
            return;
          }
        }
      }
      attempt(d, false);
    }

    /** Runs one attempt, then takes, keeps or gives up the key hold according to how it settled. */
    private void attempt(DeliveryImpl d, boolean keyHeld) {
      while (d != null) {
        current = d;
        try {
          invoke(d);
        } finally {
          current = null;
        }
        DeliveryImpl next = null;
        Object key = keyed ? d.key() : null;
        if (key != null) {
          if (!d.released) {
            if (!keyHeld) {
              blocked.put(key, BUSY);
            }
            d.holdsKey = true;
          } else if (keyHeld) {
            next = nextOf(key);
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
    private DeliveryImpl nextOf(Object key) {
      if (stopping) {
        return null;
      }
      ArrayDeque<DeliveryImpl> waiting = blocked.get(key);
      DeliveryImpl next = waiting == null || waiting == BUSY ? null : waiting.poll();
      if (next == null) {
        blocked.remove(key);
      } else if (waiting.isEmpty()) {
        blocked.put(key, BUSY);
      }
      return next;
    }

    /** On the way out: the deliveries still waiting behind a key were never started. */
    private void markWaitingNotHandled() {
      for (ArrayDeque<DeliveryImpl> waiting : blocked.values()) {
        for (DeliveryImpl d : waiting) {
          d.record.markNotHandled();
        }
      }
      blocked.clear();
    }

    /** A delivery was released on another thread (or later on this one). */
    private void releasedElsewhere(DeliveryImpl d) {
      if (d.holdsKey) {
        d.holdsKey = false;
        DeliveryImpl next = nextOf(d.key());
        if (next != null) {
          attempt(next, true);
        }
      }
    }

    private void drainSettledHere() {
      DeliveryImpl d;
      while ((d = settledHere.poll()) != null && !stopping) {
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
    void onReleased(DeliveryImpl d) {
      if (Thread.currentThread() == thread) {
        if (current != d) {
          settledHere.add(d); // e.g. a handler acking an earlier delivery it kept
        }
        // else: attempt() looks at d.released when the handler returns
      } else {
        queue.add(d);
      }
    }

    void invoke(DeliveryImpl d) {
      if (d.attempt > policy.maxAttempts()) {
        d.settleDeadLetter(
            "delivered "
                + (d.attempt - 1)
                + " times without being settled (maxAttempts "
                + policy.maxAttempts()
                + "): its consumers died or closed while handling it",
            d.attempt - 1);
        return;
      }
      try {
        handler.handle(d);
        if (!manual) {
          d.ack();
        }
      } catch (Throwable t) {
        if (isFatal(t)) {
          failForGood("a handler threw " + describe(t) + " on " + d, t);
          throw new FatalHandlerError();
        }
        if (!d.isSettled()) {
          d.fail(t);
        }
      } finally {
        // A handler that set this thread's interrupt flag (or left it set by an interrupted call)
        // must not stop the
        // worker at its next take(): the flag belongs to the handler's work, which has ended.
        if (!stopping) {
          Thread.interrupted();
        }
      }
    }
  }

  private static final ArrayDeque<DeliveryImpl> BUSY = new ArrayDeque<>(0);
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

  // ---------------------------------------------------------------- deliveries

  private static final AtomicIntegerFieldUpdater<DeliveryImpl> STATE =
      AtomicIntegerFieldUpdater.newUpdater(DeliveryImpl.class, "state");

  /** One attempt of one record. Settled at most once (first caller wins). */
  final class DeliveryImpl implements Delivery {
    final InboundRecord record;
    final int attempt;
    final Worker worker;
    volatile int state;

    /** Set once the record is settled with the broker (acked, released or dead-lettered). */
    volatile boolean released;

    /** Owned by the worker thread: this delivery holds its key in the worker's table. */
    boolean holdsKey;

    /** Cached by {@link #key()}; racy but idempotent (an equal key on every thread). */
    private Object orderingKey;

    private boolean keyless;

    DeliveryImpl(InboundRecord record, int attempt, Worker worker) {
      this.record = record;
      this.attempt = attempt;
      this.worker = worker;
    }

    /** The record's ordering key, asked once: a backend may build it on each call. */
    Object key() {
      Object k = orderingKey;
      if (k == null && !keyless) {
        k = record.orderingKey();
        if (k == null) {
          keyless = true;
        } else {
          orderingKey = k;
        }
      }
      return k;
    }

    @Override
    public Message message() {
      return record.message();
    }

    @Override
    public String topic() {
      return spec.topic();
    }

    @Override
    public String group() {
      return spec.group();
    }

    @Override
    public int attempt() {
      return attempt;
    }

    @Override
    public boolean isSettled() {
      return state != 0;
    }

    private boolean claim() {
      // After the records went back to the broker a settle would be ignored there: say so instead
      // of claiming it.
      // A settle racing with close may still claim and then be ignored (the message is delivered
      // again, as
      // at-least-once delivery allows).
      return state == 0 && !givenBack && STATE.compareAndSet(this, 0, 1);
    }

    @Override
    public boolean ack() {
      if (!claim()) {
        return false;
      }
      record.ack();
      done();
      return true;
    }

    @Override
    public boolean retry(Duration delay) {
      java.util.Objects.requireNonNull(delay, "delay");
      if (delay.isNegative() || delay.compareTo(RetryPolicy.MAX_DELAY) > 0) {
        // Checked before the claim, so a refused delay leaves the delivery unsettled and nothing is
        // lost.
        throw new IllegalArgumentException(
            "retry delay must be between 0 and "
                + RetryPolicy.MAX_DELAY.toHours()
                + " hours, was "
                + delay);
      }
      if (!claim()) {
        return false;
      }
      if (attempt >= policy.maxAttempts()) {
        deadLetterClaimed(
            "retry requested after the last attempt ("
                + attempt
                + " of "
                + policy.maxAttempts()
                + ")",
            null);
      } else {
        retryClaimed(delay);
      }
      return true;
    }

    @Override
    public boolean deadLetter(String reason) {
      java.util.Objects.requireNonNull(reason, "reason");
      if (!claim()) {
        return false;
      }
      deadLetterClaimed(reason, null);
      return true;
    }

    /** The handler threw before settling. */
    void fail(Throwable t) {
      if (!claim()) {
        return;
      }
      if (!policy.isRetryable(t)) {
        deadLetterClaimed("non-retryable failure: " + describe(t), t);
      } else if (attempt >= policy.maxAttempts()) {
        deadLetterClaimed(
            "failed " + attempt + " of " + policy.maxAttempts() + " attempts: " + describe(t), t);
      } else {
        retryClaimed(policy.backoff(attempt));
      }
    }

    /**
     * Dead-letters without calling the handler; {@code attemptsMade} deliveries happened before.
     */
    void settleDeadLetter(String reason, int attemptsMade) {
      if (claim()) {
        deadLetterClaimed(reason, null, attemptsMade);
      }
    }

    private void retryClaimed(Duration delay) {
      if (releaseNatively || (!keyed && delay.isZero())) {
        record.release(delay);
        done();
        return;
      }
      // In place: the record stays leased (and its key held) until the retry runs.
      record.recordAttempts(attempt);
      DeliveryImpl next = new DeliveryImpl(record, attempt + 1, worker);
      Runnable due =
          () -> {
            if (!stopping) {
              worker.queue.add(next);
            }
          };
      if (delay.isZero()) {
        due.run();
      } else {
        try {
          bus.time().schedule(due, delay.toNanos());
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // The bus is closing: the record is released by consumer.close().
        }
      }
    }

    private void deadLetterClaimed(String reason, Throwable t) {
      deadLetterClaimed(reason, t, attempt);
    }

    private void deadLetterClaimed(String reason, Throwable t, int attemptsMade) {
      deadLetters.send(record, reason, t, attemptsMade, this::done);
    }

    /** The record is settled with the broker: free its slot and its key. */
    private void done() {
      released = true;
      if (Thread.currentThread() == worker.thread) {
        window.freedBy(worker.index);
      } else {
        window.freeShared();
      }
      if (keyed && key() != null) {
        worker.onReleased(this);
      }
    }

    @Override
    public String toString() {
      return "Delivery{"
          + record.message()
          + ", attempt="
          + attempt
          + ", topic="
          + spec.topic()
          + ", group="
          + spec.group()
          + "}";
    }
  }

  private static void markNotHandled(List<InboundRecord> records) {
    for (InboundRecord r : records) {
      r.markNotHandled();
    }
  }

  private static String describe(Throwable t) {
    return t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  // ---------------------------------------------------------------- closing

  @Override
  public void close() {
    close(DEFAULT_DRAIN);
  }

  @Override
  public boolean close(Duration drainDeadline) {
    java.util.Objects.requireNonNull(drainDeadline, "drainDeadline");
    try {
      return stop(drainDeadline);
    } finally {
      bus.unregister(this);
    }
  }

  /**
   * Stops polling and the workers, waits for running handlers and dead-letter publishes until the
   * deadline, then gives every unsettled record back. Idempotent: a second call returns true at
   * once.
   */
  private synchronized boolean stop(Duration drainDeadline) {
    if (stopping) {
      return true;
    }
    long deadline = System.nanoTime() + Math.max(0, drainDeadline.toNanos());
    running = false;
    stopping = true;
    consumer.wakeup();
    LockSupport.unpark(pollThread);
    for (Worker w : workers) {
      w.queue.add(STOP);
    }
    boolean drained = true;
    Thread self = Thread.currentThread();
    for (Worker w : workers) {
      if (w.thread == self) {
        continue;
      }
      drained &= join(w.thread, deadline);
    }
    // Dead-letter publishes already under way finish (or fail) within the same deadline.
    while (deadLetters.pending() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    drained &= deadLetters.pending() == 0;
    if (pollThread != self) {
      join(pollThread, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
    }
    for (Worker w : workers) {
      if (w.thread.isAlive() && w.thread != self) {
        markNotHandled(w.unstartedOfStuckBatch());
        w.thread.interrupt();
      }
    }
    // Records routed after a worker took its STOP (the poll thread raced with close), or queued
    // behind a handler
    // that outlived the deadline, were never started either. (A stuck worker's key table is its
    // own: deliveries
    // waiting there count, a documented edge.)
    for (Worker w : workers) {
      List<Object> left = new ArrayList<>();
      w.queue.drainTo(left);
      for (Object item : left) {
        if (item instanceof InboundRecord[]) {
          markNotHandled(Arrays.asList((InboundRecord[]) item));
        } else if (item == STOP) {
          w.queue.add(STOP); // a stuck worker still exits when its handler returns
        }
      }
    }
    givenBack = true;
    consumer.close();
    return drained;
  }

  /**
   * Ends this subscription because it cannot go on (a fatal error in a handler or in polling):
   * logged at ERROR naming the topic and group, {@link #isActive()} false, the bus's health down
   * until the application closes the subscription, and every unsettled delivery given back to the
   * group. The first failure wins.
   */
  private void failForGood(String why, Throwable cause) {
    synchronized (this) {
      if (failure != null || stopping) {
        return;
      }
      failure = why;
      running = false;
    }
    LOG.log(
        System.Logger.Level.ERROR,
        () ->
            "subscription to topic '"
                + spec.topic()
                + "' in group '"
                + spec.group()
                + "' failed for good and gives its deliveries back: "
                + why,
        cause);
    // On a thread of its own: the caller is one of the threads that stop() waits for.
    Thread closer =
        new Thread(
            () -> {
              try {
                stop(Duration.ZERO);
              } catch (RuntimeException e) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    () -> "giving back the deliveries of " + this + " failed",
                    e);
              }
            },
            pollThread.getName().replace("-poll", "-failed"));
    closer.setDaemon(true);
    closer.start();
  }

  /**
   * What makes this subscription unhealthy now, or null: a failure for good, or polling that fails.
   */
  String trouble() {
    String f = failure;
    return f != null ? "failed for good: " + f : pollTrouble;
  }

  /**
   * Whether a handler's throwable leaves the JVM in a state in which handling more messages cannot
   * be trusted. A {@link StackOverflowError} is not: the stack has unwound, and it is the handler's
   * own failure, so it counts as a failed attempt like any exception.
   */
  private static boolean isFatal(Throwable t) {
    return t instanceof VirtualMachineError && !(t instanceof StackOverflowError);
  }

  /** Unwinds a worker whose handler threw a fatal error, after {@link #failForGood} has run. */
  private static final class FatalHandlerError extends Error {
    FatalHandlerError() {
      super(null, null, false, false);
    }
  }

  private static boolean join(Thread t, long deadlineNanos) {
    // An idle worker needs a moment to take its STOP even when the deadline has passed already.
    long left = Math.max(deadlineNanos - System.nanoTime(), IDLE_EXIT_NANOS);
    try {
      if (left > 0) {
        TimeUnit.NANOSECONDS.timedJoin(t, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !t.isAlive();
  }

  @Override
  public String toString() {
    return "Subscription{topic="
        + spec.topic()
        + ", group="
        + spec.group()
        + ", ordering="
        + spec.ordering()
        + (failure != null ? ", failed" : running ? "" : ", closed")
        + "}";
  }
}
