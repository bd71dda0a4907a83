package io.polybus.sqs;

import io.polybus.BackPressureException;
import io.polybus.BrokerUnavailableException;
import io.polybus.Message;
import io.polybus.PolybusException;
import io.polybus.PublishReceipt;
import io.polybus.TransientPolybusException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The publishes of one bus that wait to be sent, and how they become {@code SendMessageBatch}
 * calls. Knows nothing of SQS itself: a {@link BatchSender} sends one batch of one topic to every
 * group queue of that topic.
 *
 * <p>Invariants, all state guarded by {@code this}:
 *
 * <ul>
 *   <li><b>Bound.</b> At most {@code maxWaitingMessages} messages and {@code maxWaitingBytes} bytes
 *       (their encoded size) wait, counted from {@link #offer} until a batch takes them. A publish
 *       that would go over is refused at once with {@link BackPressureException} and nothing of it
 *       is queued; a publish offered while nothing waits is always accepted, however large, so no
 *       single {@code publishAll} is refused for good. The caller never blocks.
 *   <li><b>Coalescing.</b> A batch takes up to {@link #MAX_BATCH} waiting messages of one topic
 *       (and at most {@code maxBatchBytes}, SQS's batch rule), whatever publish they came from,
 *       oldest first; it is taken when a sender is free, so a burst fills batches by itself and a
 *       lone publish leaves at once.
 *   <li><b>Parallelism.</b> At most {@code parallelism} batches are in flight; a finished batch
 *       hands its sender the next one.
 *   <li><b>FIFO order.</b> With {@code fifo}, a message group (an entry's {@link Entry#group}) has
 *       at most one batch in flight, and its messages enter batches in the order they were offered,
 *       several of one group in one batch keeping that order. A failed message fails every message
 *       of its group still waiting, so what SQS confirms of a key is always in publish order.
 *   <li><b>No timeout while waiting.</b> A message is only ever failed before it was sent when
 *       sending cannot work: a whole call failed transiently (the endpoint did not answer or could
 *       not be reached: everything still waiting fails with {@link BrokerUnavailableException},
 *       saying it was not sent; throttled: what waits of that topic fails with {@link
 *       BackPressureException}), an earlier message of its FIFO group failed, or the bus closed.
 *       The time bound of a sent call is the {@link BatchSender}'s, so a publish waits at most for
 *       the calls in flight when it came and then its own, while the endpoint fails.
 * </ul>
 *
 * <p>Futures complete on the thread that finished the batch, never while {@code this} is held.
 */
final class Outbox {
  /** SQS's limit of entries per {@code SendMessageBatch}. */
  static final int MAX_BATCH = 10;

  /** Sends one batch; runs on the executor, never with the outbox's monitor held. */
  interface BatchSender {
    /**
     * Sends {@code batch} (entries of {@code topic}, in order) to every group queue of the topic.
     * Records each accepted entry's position ({@link Entry#position}) and each refused one's
     * failure ({@link Entry#failure}); throws a {@link PolybusException} when a call failed as a
     * whole (then every entry of the batch fails with it).
     */
    void send(String topic, List<Entry> batch);
  }

  /** One publish call: completes when every entry is accepted, fails at the first failure. */
  static final class Publish {
    final String topic;
    final List<Message> messages;
    final CompletableFuture<List<PublishReceipt>> result = new CompletableFuture<>();
    private final String[] positions;
    private final AtomicInteger remaining;

    Publish(String topic, List<Message> messages) {
      this.topic = topic;
      this.messages = messages;
      this.positions = new String[messages.size()];
      this.remaining = new AtomicInteger(messages.size());
    }

    private void sent(int index, String position) {
      positions[index] = position;
      if (remaining.decrementAndGet() == 0) {
        List<PublishReceipt> receipts = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
          receipts.add(
              new PublishReceipt(
                  topic, messages.get(i).id(), positions[i] == null ? "" : positions[i]));
        }
        result.complete(receipts);
      }
    }
  }

  /** One message of one publish, as it will be sent. */
  static final class Entry {
    final Publish publish;
    final int index;

    /** FIFO mode: the message group; null in standard mode. */
    final String group;

    /** Standard mode: null; FIFO mode: the deduplication id. */
    final String deduplicationId;

    final SqsLayout.Encoded encoded;

    /** Written by the sender: SQS's MessageId in the first group queue. */
    String position;

    /** Written by the sender: why SQS refused this entry, or null. */
    PolybusException failure;

    Entry(
        Publish publish,
        int index,
        String group,
        String deduplicationId,
        SqsLayout.Encoded encoded) {
      this.publish = publish;
      this.index = index;
      this.group = group;
      this.deduplicationId = deduplicationId;
      this.encoded = encoded;
    }

    Message message() {
      return publish.messages.get(index);
    }

    int size() {
      return encoded.size();
    }
  }

  /** What waits for one topic. */
  private final class Lane {
    final String topic;

    /** Standard mode: every waiting entry, oldest first. */
    final ArrayDeque<Entry> entries = new ArrayDeque<>();

    /** FIFO mode: each group's waiting entries, oldest first; a group without any is absent. */
    final Map<String, ArrayDeque<Entry>> groups = new HashMap<>();

    /** FIFO mode: groups with waiting entries and no batch in flight, in the order they came. */
    final LinkedHashSet<String> ready = new LinkedHashSet<>();

    /** FIFO mode: groups with a batch in flight. */
    final Set<String> busy = new HashSet<>();

    int inFlight;

    Lane(String topic) {
      this.topic = topic;
    }

    boolean hasReady() {
      return fifo ? !ready.isEmpty() : !entries.isEmpty();
    }

    boolean isIdle() {
      return inFlight == 0 && entries.isEmpty() && groups.isEmpty();
    }

    void add(Entry e) {
      if (!fifo) {
        entries.add(e);
        return;
      }
      groups.computeIfAbsent(e.group, g -> new ArrayDeque<>()).add(e);
      if (!busy.contains(e.group)) {
        ready.add(e.group);
      }
    }

    /** The next batch: the oldest waiting entries that may leave now. */
    List<Entry> take() {
      List<Entry> batch = new ArrayList<>(MAX_BATCH);
      int bytes = 0;
      if (!fifo) {
        while (!entries.isEmpty() && batch.size() < MAX_BATCH) {
          Entry e = entries.peek();
          if (!batch.isEmpty() && bytes + e.size() > maxBatchBytes) {
            break;
          }
          batch.add(entries.poll());
          bytes += e.size();
        }
        return batch;
      }
      Iterator<String> it = ready.iterator();
      boolean full = false;
      while (!full && it.hasNext() && batch.size() < MAX_BATCH) {
        String g = it.next();
        ArrayDeque<Entry> q = groups.get(g);
        boolean took = false;
        while (!q.isEmpty() && batch.size() < MAX_BATCH) {
          Entry e = q.peek();
          if (!batch.isEmpty() && bytes + e.size() > maxBatchBytes) {
            full = true;
            break;
          }
          batch.add(q.poll());
          bytes += e.size();
          took = true;
        }
        if (took) {
          it.remove();
          busy.add(g);
          if (q.isEmpty()) {
            groups.remove(g);
          }
        }
      }
      return batch;
    }

    /** Removes and returns every waiting entry of {@code group}. */
    List<Entry> removeGroup(String group) {
      ready.remove(group);
      ArrayDeque<Entry> q = groups.remove(group);
      return q == null ? List.of() : new ArrayList<>(q);
    }

    /** Removes and returns every waiting entry. */
    List<Entry> removeAll() {
      List<Entry> all = new ArrayList<>(entries);
      entries.clear();
      for (ArrayDeque<Entry> q : groups.values()) {
        all.addAll(q);
      }
      groups.clear();
      ready.clear();
      return all;
    }
  }

  private final boolean fifo;
  private final int parallelism;
  private final int maxBatchBytes;
  private final int maxWaitingMessages;
  private final long maxWaitingBytes;
  private final Executor executor;
  private final BatchSender sender;
  private final String where;

  /** Lanes with waiting entries or batches in flight; an idle lane is removed. */
  private final Map<String, Lane> lanes = new LinkedHashMap<>();

  /** Lanes with a batch that may leave now, taken in turn. */
  private final LinkedHashSet<Lane> readyLanes = new LinkedHashSet<>();

  private int inFlight;
  private int waitingMessages;
  private long waitingBytes;
  private boolean closed;

  /**
   * @param where the endpoint, for messages
   * @param executor runs {@link BatchSender#send}; a rejected batch fails as closed
   */
  Outbox(
      boolean fifo,
      int parallelism,
      int maxBatchBytes,
      int maxWaitingMessages,
      long maxWaitingBytes,
      Executor executor,
      BatchSender sender,
      String where) {
    this.fifo = fifo;
    this.parallelism = parallelism;
    this.maxBatchBytes = maxBatchBytes;
    this.maxWaitingMessages = maxWaitingMessages;
    this.maxWaitingBytes = maxWaitingBytes;
    this.executor = executor;
    this.sender = sender;
    this.where = where;
  }

  /**
   * Queues every entry of one publish (all of {@code publish}'s, in order), or refuses them all;
   * returns the publish's future. Never blocks beyond the monitor.
   */
  CompletableFuture<List<PublishReceipt>> offer(Publish publish, List<Entry> entries) {
    List<Job> tasks = new ArrayList<>();
    long bytes = 0;
    for (Entry e : entries) {
      bytes += e.size();
    }
    synchronized (this) {
      if (closed) {
        publish.result.completeExceptionally(
            new IllegalStateException("the sqs backend is closed"));
        return publish.result;
      }
      if (waitingMessages > 0
          && (waitingMessages + entries.size() > maxWaitingMessages
              || waitingBytes + bytes > maxWaitingBytes)) {
        publish.result.completeExceptionally(
            new BackPressureException(
                "publish to '"
                    + publish.topic
                    + "' refused, nothing of it sent: "
                    + waitingMessages
                    + " messages ("
                    + waitingBytes
                    + " bytes) already wait to be sent to "
                    + where
                    + " (at most "
                    + maxWaitingMessages
                    + " messages, "
                    + maxWaitingBytes
                    + " bytes); try again later"));
        return publish.result;
      }
      Lane lane = lanes.computeIfAbsent(publish.topic, Lane::new);
      for (Entry e : entries) {
        lane.add(e);
      }
      waitingMessages += entries.size();
      waitingBytes += bytes;
      if (lane.hasReady()) {
        readyLanes.add(lane);
      }
      pump(tasks);
    }
    submit(tasks);
    return publish.result;
  }

  /** Under the monitor: takes batches while a sender is free. */
  private void pump(List<Job> tasks) {
    while (inFlight < parallelism && !readyLanes.isEmpty()) {
      Lane lane = readyLanes.iterator().next();
      readyLanes.remove(lane);
      List<Entry> batch = lane.take();
      if (lane.hasReady()) {
        readyLanes.add(lane); // behind the other lanes: topics take turns
      }
      if (batch.isEmpty()) {
        continue;
      }
      noLongerWaiting(batch);
      inFlight++;
      lane.inFlight++;
      tasks.add(new Job(lane, batch));
    }
  }

  /** Under the monitor: {@code entries} left the queue (taken into a batch, or failed unsent). */
  private void noLongerWaiting(List<Entry> entries) {
    for (Entry e : entries) {
      waitingMessages--;
      waitingBytes -= e.size();
    }
  }

  /** One batch of one lane, to be sent on the executor. */
  private final class Job implements Runnable {
    final Lane lane;
    final List<Entry> batch;

    Job(Lane lane, List<Entry> batch) {
      this.lane = lane;
      this.batch = batch;
    }

    @Override
    public void run() {
      send(lane, batch);
    }
  }

  private void submit(List<Job> tasks) {
    for (Job t : tasks) {
      try {
        executor.execute(t);
      } catch (RejectedExecutionException e) {
        finish(t.lane, t.batch, new IllegalStateException("the sqs backend is closed"));
      }
    }
  }

  /** On the executor: sends one batch, settles its entries, then lets the next batches go. */
  private void send(Lane lane, List<Entry> batch) {
    RuntimeException callFailure = null;
    try {
      sender.send(lane.topic, batch);
    } catch (PolybusException e) {
      callFailure = e;
    } catch (RuntimeException e) {
      callFailure =
          new BrokerUnavailableException(
              "publish to '" + lane.topic + "' failed (" + where + "): " + e, e);
    }
    finish(lane, batch, callFailure);
  }

  private void finish(Lane lane, List<Entry> batch, RuntimeException callFailure) {
    List<Job> tasks = new ArrayList<>();
    List<Entry> cascaded = new ArrayList<>();
    List<PolybusException> cascadedWhy = new ArrayList<>();
    synchronized (this) {
      inFlight--;
      lane.inFlight--;
      if (callFailure instanceof BackPressureException) {
        // SQS throttles this topic's calls beyond the SDK's retries: what waits of it would be
        // throttled too. It fails now, never sent, so a caller's retry cannot duplicate it.
        BackPressureException why =
            new BackPressureException(
                "publish to '"
                    + lane.topic
                    + "' not sent: "
                    + where
                    + " throttles its calls ("
                    + callFailure.getMessage()
                    + "); try again later",
                callFailure);
        for (Entry e : lane.removeAll()) {
          cascaded.add(e);
          cascadedWhy.add(why);
        }
      } else if (callFailure instanceof TransientPolybusException) {
        // The endpoint does not answer (unreachable, or not within the call's timeout): what waits,
        // of any topic, would fail the same way, after as long again. It fails now, never sent, so
        // a caller's retry cannot duplicate it, and no publish waits longer than two calls.
        BrokerUnavailableException why =
            new BrokerUnavailableException(
                "publish not sent: a call to "
                    + where
                    + " just failed ("
                    + callFailure.getMessage()
                    + ")",
                callFailure);
        for (Lane l : lanes.values()) {
          for (Entry e : l.removeAll()) {
            cascaded.add(e);
            cascadedWhy.add(why);
          }
        }
        readyLanes.clear();
      }
      if (fifo) {
        Set<String> failedGroups = new HashSet<>();
        for (Entry e : batch) {
          if ((callFailure != null || e.failure != null) && failedGroups.add(e.group)) {
            RuntimeException cause = callFailure != null ? callFailure : e.failure;
            TransientPolybusException why =
                new TransientPolybusException(
                    "publish to '"
                        + lane.topic
                        + "' not sent: an earlier message of its key failed, and sending this one"
                        + " would break the key's order ("
                        + cause.getMessage()
                        + ")",
                    cause);
            for (Entry w : lane.removeGroup(e.group)) {
              cascaded.add(w);
              cascadedWhy.add(why);
            }
          }
        }
        for (Entry e : batch) {
          if (lane.busy.remove(e.group) && lane.groups.containsKey(e.group)) {
            lane.ready.add(e.group);
          }
        }
      }
      noLongerWaiting(cascaded);
      if (lane.hasReady()) {
        readyLanes.add(lane);
      }
      lanes.values().removeIf(Lane::isIdle);
      pump(tasks);
      notifyAll();
    }
    for (Entry e : batch) {
      RuntimeException f = callFailure != null ? callFailure : e.failure;
      if (f != null) {
        e.publish.result.completeExceptionally(f);
      } else {
        e.publish.sent(e.index, e.position);
      }
    }
    for (int i = 0; i < cascaded.size(); i++) {
      cascaded.get(i).publish.result.completeExceptionally(cascadedWhy.get(i));
    }
    submit(tasks);
  }

  /** Messages waiting to be sent (not in flight). */
  synchronized int waiting() {
    return waitingMessages;
  }

  /**
   * Refuses new publishes, waits until everything queued was sent or {@code deadlineNanos} passed,
   * then fails what still waits ({@link IllegalStateException}: never sent).
   */
  void close(long deadlineNanos) {
    List<Entry> left = new ArrayList<>();
    synchronized (this) {
      closed = true;
      long now;
      while ((waitingMessages > 0 || inFlight > 0) && (now = System.nanoTime()) < deadlineNanos) {
        try {
          TimeUnit.NANOSECONDS.timedWait(this, deadlineNanos - now);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      for (Lane lane : lanes.values()) {
        left.addAll(lane.removeAll());
      }
      readyLanes.clear();
      waitingMessages = 0;
      waitingBytes = 0;
    }
    for (Entry e : left) {
      e.publish.result.completeExceptionally(
          new IllegalStateException("the sqs backend closed before this message was sent"));
    }
  }
}
