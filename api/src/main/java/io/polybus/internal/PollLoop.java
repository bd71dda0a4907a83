package io.polybus.internal;

import io.polybus.PolybusException;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * Not API. The poll thread of one subscription: asks the {@link BackendConsumer} for at most as
 * many records as the {@link InFlightWindow} has room for, takes their slots, and hands them to the
 * {@link KeyedDispatch}.
 *
 * <p>Invariants: records are taken from the window before they reach a worker, so the bound holds
 * however fast workers settle. A full subscription still polls for nothing at least every {@code
 * ackTimeout / 3} (a heartbeat: the member is alive, just full), and never blocks in a poll longer
 * than that. A failing poll is retried with a backoff from 100 ms doubling to 5 s; one that is not
 * {@link PolybusException#isTransient() transient} is reported by {@link #trouble()} until a poll
 * works again. An {@link Error} from the backend fails the subscription for good, never silently.
 * Records polled after close began are marked not handled (no handler saw them).
 */
final class PollLoop implements Runnable {
  private static final System.Logger LOG = System.getLogger("io.polybus.runtime");

  /**
   * The most records asked of the backend at once. Each poll's records go to the workers in one
   * hand-over, and a hand-over that wakes an idle worker may preempt the poll thread: larger
   * batches of a backlog mean fewer of them.
   */
  static final int MAX_POLL_BATCH = 2048;

  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final BackendConsumer consumer;
  private final InFlightWindow window;
  private final KeyedDispatch dispatch;
  private final HandlerGate gate;
  private final RunState state;
  private final RuntimeTime time;
  private final long heartbeatNanos;
  private final Duration pollTimeout;
  private final BiConsumer<String, Throwable> failForGood;
  private final Object owner;

  /** The latest poll failure that retrying cannot cure (cleared by a good poll), or null. */
  private volatile String trouble;

  /**
   * @param owner named in log lines
   * @param failForGood called on the poll thread when the backend throws an {@link Error}
   */
  PollLoop(
      BackendConsumer consumer,
      InFlightWindow window,
      KeyedDispatch dispatch,
      HandlerGate gate,
      RunState state,
      RuntimeTime time,
      Duration ackTimeout,
      BiConsumer<String, Throwable> failForGood,
      Object owner) {
    this.consumer = consumer;
    this.window = window;
    this.dispatch = dispatch;
    this.gate = gate;
    this.state = state;
    this.time = time;
    this.heartbeatNanos = ackTimeout.toNanos() / 3;
    this.pollTimeout =
        Duration.ofNanos(Math.min(heartbeatNanos, TimeUnit.MILLISECONDS.toNanos(500)));
    this.failForGood = failForGood;
    this.owner = owner;
  }

  /** Why polling fails now (a non-transient failure, until a poll works again), or null. */
  String trouble() {
    return trouble;
  }

  @Override
  public void run() {
    long backoffMillis = 0;
    long lastPoll = time.nanoTime();
    while (state.running) {
      try {
        boolean fetching = gate.fetching();
        int free = fetching ? window.room() : 0;
        if (free <= 0) {
          long park = Math.min(MAX_PARK_NANOS, heartbeatNanos - (time.nanoTime() - lastPoll));
          if (fetching) {
            window.awaitRoom(park, () -> state.running);
          } else {
            LockSupport.parkNanos(this, Math.max(1, park)); // resume() unparks
          }
          if ((gate.fetching() ? window.room() : 0) <= 0
              && time.nanoTime() - lastPoll >= heartbeatNanos) {
            // heartbeat: the member is alive, just full or paused
            consumer.poll(0, Duration.ZERO);
            lastPoll = time.nanoTime();
          }
          continue;
        }
        List<InboundRecord> records = consumer.poll(Math.min(free, MAX_POLL_BATCH), pollTimeout);
        lastPoll = time.nanoTime();
        backoffMillis = 0;
        if (trouble != null) {
          trouble = null;
          LOG.log(System.Logger.Level.INFO, () -> "poll of " + owner + " works again");
        }
        if (!state.running) {
          // Polled after close started: consumer.close() gives them back, and no handler saw them.
          SubscriptionRuntime.markNotHandled(records);
          continue;
        }
        if (records.isEmpty()) {
          continue;
        }
        window.take(records.size());
        dispatch.route(records);
      } catch (InterruptedException e) {
        if (!state.running) {
          break;
        }
      } catch (RuntimeException e) {
        if (!state.running) {
          break;
        }
        backoffMillis = backoffMillis == 0 ? 100 : Math.min(backoffMillis * 2, 5000);
        long wait = backoffMillis;
        boolean transientFailure =
            e instanceof PolybusException && ((PolybusException) e).isTransient();
        if (!transientFailure) {
          // Retrying goes on (an operator may repair the cause), but health says so meanwhile.
          trouble = "polling fails: " + SubscriptionRuntime.describe(e);
        }
        LOG.log(
            transientFailure ? System.Logger.Level.INFO : System.Logger.Level.ERROR,
            () -> "poll of " + owner + " failed, retrying in " + wait + " ms: " + e,
            e);
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(backoffMillis));
      } catch (Error e) {
        // The poll thread must not die silently: a subscription that takes no more records fails
        // visibly.
        failForGood.accept("its backend's poll threw " + SubscriptionRuntime.describe(e), e);
        return;
      }
    }
  }
}
