package io.polybus.nativelog.internal;

import io.polybus.BrokerUnavailableException;
import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusException;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Not API. The {@code log:} backend: the SPI mapped onto a {@link NativeLog} directory.
 * Thread-safe.
 *
 * <p>Durability modes: {@link Fsync#NONE} completes a publish once its frames are committed to the
 * shared mapping (the page cache: survives a crash of the process, not of the machine); {@link
 * Fsync#INTERVAL} also forces every topic to the device every interval (a machine crash loses at
 * most that interval); {@link Fsync#SYNC} completes a publish only after a force that covers it,
 * one force serving every publish that arrived meanwhile (group commit).
 */
public final class NativeLogBackend implements Backend {
  /** When appended bytes are forced to the device. */
  public enum Fsync {
    NONE,
    INTERVAL,
    SYNC
  }

  /** How an idle consumer waits for new records. */
  public enum Wait {
    /**
     * Parks until an append of this process wakes it (appends of other processes are polled for
     * every 2 ms). Costs nothing while idle; the wake-up is a thread hand-over of some
     * microseconds.
     */
    BLOCK,
    /**
     * Busy-spins on the partitions' tail words (shared memory, so appends of every process are seen
     * at once) and polls as soon as one moves: the lowest latency, at the price of one core kept
     * busy per subscription while it is idle. For a machine with cores to spare.
     */
    SPIN
  }

  private final NativeLog log;
  private final Capabilities capabilities;
  private final Fsync fsync;
  private final Wait wait;
  private final GroupCommit groupCommit;
  private final ScheduledExecutorService intervalSync;
  private final AtomicBoolean closed = new AtomicBoolean();

  public NativeLogBackend(
      Path dir,
      int partitions,
      int segmentBytes,
      int maxPayloadBytes,
      Fsync fsync,
      long fsyncIntervalMillis,
      long stallTimeoutNanos,
      LogRetention retention)
      throws IOException {
    this(
        dir,
        partitions,
        segmentBytes,
        maxPayloadBytes,
        fsync,
        fsyncIntervalMillis,
        stallTimeoutNanos,
        retention,
        Wait.BLOCK);
  }

  public NativeLogBackend(
      Path dir,
      int partitions,
      int segmentBytes,
      int maxPayloadBytes,
      Fsync fsync,
      long fsyncIntervalMillis,
      long stallTimeoutNanos,
      LogRetention retention,
      Wait wait)
      throws IOException {
    this.log = NativeLog.acquire(dir, partitions, segmentBytes, stallTimeoutNanos, retention);
    this.fsync = fsync;
    this.wait = wait;
    this.capabilities =
        Capabilities.builder()
            .orderedByKey(true)
            .replay(true)
            .replayFromTimestamp(true)
            .replayFromOffset(true)
            .uncountedGiveBack(true)
            .durable(true)
            .nativeDelayedRetry(true)
            .mayDuplicate(false)
            .lagAccuracy(ConsumerLag.Accuracy.EXACT)
            .maxPayloadBytes(maxPayloadBytes)
            .maxHeaders(64)
            .build();
    this.groupCommit = fsync == Fsync.SYNC ? new GroupCommit() : null;
    if (fsync == Fsync.INTERVAL) {
      intervalSync =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "polybus-log-fsync");
                t.setDaemon(true);
                return t;
              });
      intervalSync.scheduleWithFixedDelay(
          this::forceAll, fsyncIntervalMillis, fsyncIntervalMillis, TimeUnit.MILLISECONDS);
    } else {
      intervalSync = null;
    }
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    long[] positions;
    try {
      positions = log.topic(topic).append(messages);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new PayloadTooLargeException(
              "a message does not fit a segment of the log at " + log.dir + ": " + e.getMessage(),
              e));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(
          log.ioFailure(e, "appending to the log at " + log.dir + " failed"));
    } catch (PolybusException e) {
      return CompletableFuture.failedFuture(
          e); // a refused topic directory: the caller learns it from the future
    } catch (InternalError e) {
      // A fault on a mapped page (a segment cut short under us), raised by the JVM at the next
      // safepoint poll: it
      // may surface anywhere in the append, so it is caught here rather than around the access.
      return CompletableFuture.failedFuture(log.mappedAccessFailed(topic, e));
    }
    // Receipts are made when read ("<partition>@<offset>"): most batch publishers never look at
    // them.
    List<PublishReceipt> receipts =
        new java.util.AbstractList<>() {
          @Override
          public PublishReceipt get(int i) {
            long p = positions[i];
            return new PublishReceipt(
                topic, messages.get(i).id(), (p >>> 48) + "@" + (p & 0xFFFF_FFFF_FFFFL));
          }

          @Override
          public int size() {
            return positions.length;
          }
        };
    if (groupCommit != null) {
      return groupCommit.await().thenApply(v -> receipts);
    }
    return CompletableFuture.completedFuture(receipts);
  }

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    try {
      log.ensureGroup(topic, group, startFrom);
    } catch (IOException e) {
      throw log.ioFailure(
          e, "creating group " + group + " of " + topic + " in " + log.dir + " failed");
    } catch (InternalError e) {
      throw log.mappedAccessFailed(topic, e);
    }
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    ensureGroup(spec.topic(), spec.group(), spec.startFrom());
    try {
      LogMember member = log.join(spec.topic(), spec.group());
      return wait == Wait.SPIN ? new SpinningConsumer(member, log.topic(spec.topic())) : member;
    } catch (IOException e) {
      throw log.ioFailure(
          e,
          "joining group " + spec.group() + " of " + spec.topic() + " in " + log.dir + " failed");
    } catch (InternalError e) {
      throw log.mappedAccessFailed(spec.topic(), e);
    }
  }

  /**
   * Read from the group's state files ({@link NativeLog#lag}); no age (that would mean reading the
   * oldest unsettled record). A topic that does not exist has lag 0 and no partitions.
   */
  @Override
  public ConsumerLag lag(String topic, String group) {
    try {
      java.util.Map<String, Long> shares = log.lag(topic, group);
      return ConsumerLag.ofPartitions(
          topic,
          group,
          shares == null ? java.util.Map.of() : shares,
          null,
          ConsumerLag.Accuracy.EXACT,
          java.time.Instant.now());
    } catch (IOException e) {
      throw log.ioFailure(
          e, "reading the lag of group " + group + " of " + topic + " in " + log.dir + " failed");
    } catch (InternalError e) {
      throw log.mappedAccessFailed(topic, e);
    }
  }

  @Override
  public Health health() {
    if (closed.get()) {
      return Health.down("log " + log.dir + ": this backend is closed");
    }
    return log.health();
  }

  private void forceAll() {
    log.forceAll();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (intervalSync != null) {
      intervalSync.shutdownNow();
      forceAll();
    }
    if (groupCommit != null) {
      groupCommit.close();
    }
    log.release();
  }

  /**
   * One thread forcing the log for every publish that arrived since its last force: concurrent
   * publishers share the cost of a force (group commit, as BookKeeper's journal does).
   *
   * <p>Publishers take no lock (64 of them contending for one monitor cost more than the force):
   * after its append a publisher reads the future of the next force and raises {@link #pending}.
   * The thread swaps in a fresh future before it forces, so a publisher holding the old future
   * appended before the swap and is covered by that force; one holding the new future has raised
   * {@code pending} and is covered by the next. The thread parks only after announcing it in {@link
   * #sleeping} and checking {@code pending} once more, and a publisher unparks it when it sees it
   * asleep, so no raise is missed (all three fields are volatile: their accesses are totally
   * ordered).
   */
  private final class GroupCommit {
    private final AtomicReference<CompletableFuture<Void>> next =
        new AtomicReference<>(new CompletableFuture<>());
    private final AtomicBoolean pending = new AtomicBoolean();
    private volatile boolean sleeping;
    private volatile boolean stopped;
    private final Thread thread = new Thread(this::run, "polybus-log-group-commit");

    GroupCommit() {
      thread.setDaemon(true);
      thread.start();
    }

    /** Called after an append: completes once a force covering it is done. */
    CompletableFuture<Void> await() {
      CompletableFuture<Void> f = next.get();
      if (stopped) {
        return forceNow(); // the thread is gone: force on the caller's thread
      }
      if (!pending.get()) {
        pending.set(
            true); // read first: 64 publishers writing the same line on every publish would bounce
        // it
      }
      if (sleeping) {
        LockSupport.unpark(thread);
      }
      return f;
    }

    private void run() {
      while (true) {
        if (!pending.getAndSet(false)) {
          if (stopped) {
            return;
          }
          sleeping = true;
          if (!pending.get() && !stopped) {
            LockSupport.park(this);
          }
          sleeping = false;
          continue;
        }
        CompletableFuture<Void> batch = next.getAndSet(new CompletableFuture<>());
        complete(
            batch); // the force covers every append whose publisher read `batch` before the swap
        // above
      }
    }

    private void complete(CompletableFuture<Void> batch) {
      try {
        forceAll();
        batch.complete(null);
      } catch (RuntimeException e) {
        batch.completeExceptionally(
            new BrokerUnavailableException("fsync of " + log.dir + " failed: " + e, e));
      }
    }

    private CompletableFuture<Void> forceNow() {
      CompletableFuture<Void> f = new CompletableFuture<>();
      complete(f);
      return f;
    }

    void close() {
      stopped = true;
      LockSupport.unpark(thread);
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      CompletableFuture<Void> last = next.get();
      if (!last.isDone()) {
        complete(last); // publishes that raced with close, or a thread that did not stop in time
      }
    }
  }

  /**
   * {@link Wait#SPIN}: a member whose poll, instead of parking, spins on the end offsets of the
   * topic's partitions (volatile reads of the segments' shared tail words, so appends of every
   * process show at once) and asks the member for records when one moved, or every {@link
   * #IDLE_POLL_NANOS} for due retries and the membership heartbeat. Spinning on the tails rather
   * than on the member's poll keeps the idle loop free of locks and garbage. A tail moves when a
   * writer claims space, a moment before it commits, so after a move the member is polled in a
   * tight loop for up to {@link #CHASE_NANOS}. Threading as {@link LogMember}: poll from one
   * thread.
   */
  private static final class SpinningConsumer implements BackendConsumer {
    private static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long CHASE_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final LogMember member;
    private final Partition[] partitions;
    private final long[] lastEnds;
    private volatile boolean woken;

    SpinningConsumer(LogMember member, LogTopic topic) {
      this.member = member;
      this.partitions = topic.partitions;
      this.lastEnds = new long[partitions.length];
    }

    @Override
    public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      long chaseUntil = System.nanoTime();
      while (true) {
        List<InboundRecord> records = member.poll(max, Duration.ZERO);
        if (!records.isEmpty() || max <= 0) {
          return records;
        }
        long now = System.nanoTime();
        if (woken || now - deadline >= 0) {
          woken = false;
          return List.of();
        }
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
        if (now - chaseUntil < 0) {
          Thread.onSpinWait(); // a claim was seen: its commit follows within microseconds
          continue;
        }
        long nextPoll = now + IDLE_POLL_NANOS;
        while (true) {
          if (moved()) {
            chaseUntil = System.nanoTime() + CHASE_NANOS;
            break;
          }
          now = System.nanoTime();
          if (woken || now - deadline >= 0 || now - nextPoll >= 0) {
            break;
          }
          Thread.onSpinWait();
        }
      }
    }

    /** Whether any partition's end offset changed since the last look. */
    private boolean moved() {
      boolean moved = false;
      for (int i = 0; i < partitions.length; i++) {
        long end;
        try {
          end = partitions[i].endOffset();
        } catch (IOException | InternalError e) {
          return true; // let the member's poll meet the error and report it
        }
        if (end != lastEnds[i]) {
          lastEnds[i] = end;
          moved = true;
        }
      }
      return moved;
    }

    @Override
    public void wakeup() {
      woken = true;
      member.wakeup();
    }

    @Override
    public void close() {
      member.close();
    }
  }
}
