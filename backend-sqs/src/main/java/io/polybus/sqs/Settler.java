package io.polybus.sqs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResponse;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;

/**
 * Sends what consumers settle, batched: acks as {@code DeleteMessageBatch}, releases and visibility
 * extensions as {@code ChangeMessageVisibilityBatch}, ten entries a call, the calls of one round in
 * parallel on the backend's sender threads. One thread per backend; settling never blocks the
 * caller.
 *
 * <p>Every {@link #HEARTBEAT_MILLIS} it also asks each live consumer for the records whose
 * invisibility is a third used up and extends them to a full visibility timeout again, so a slow
 * but healthy handler keeps its message.
 *
 * <p>A call that fails as a whole is tried again next round while the records' leases last (after
 * that SQS has handed them out again and the receipt handles are void); an entry SQS refuses (an
 * expired receipt handle) is dropped, since its message is already visible again.
 */
final class Settler {
  private static final System.Logger LOG = System.getLogger("io.polybus.sqs");
  static final long HEARTBEAT_MILLIS = 200;

  /**
   * One settling operation: {@code visibility} -1 is a delete, otherwise a visibility change in
   * seconds.
   */
  record Op(String queueUrl, String receiptHandle, int visibility, long expiresNanos) {}

  private final SqsBackend backend;
  private final LinkedBlockingQueue<Op> ops = new LinkedBlockingQueue<>();
  private final Set<SqsConsumer> consumers = ConcurrentHashMap.newKeySet();
  private final Thread thread;

  /**
   * Operations queued, and operations taken from the queue and sent (or given up): for {@link
   * #awaitIdle}.
   */
  private final java.util.concurrent.atomic.AtomicLong queued =
      new java.util.concurrent.atomic.AtomicLong();

  private final java.util.concurrent.atomic.AtomicLong handled =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean closed;

  Settler(SqsBackend backend) {
    this.backend = backend;
    this.thread = new Thread(this::run, "polybus-sqs-settler");
    thread.setDaemon(true);
    thread.start();
  }

  void register(SqsConsumer c) {
    consumers.add(c);
  }

  void unregister(SqsConsumer c) {
    consumers.remove(c);
  }

  void delete(String queueUrl, String receiptHandle, long expiresNanos) {
    queued.incrementAndGet();
    ops.add(new Op(queueUrl, receiptHandle, -1, expiresNanos));
  }

  void changeVisibility(String queueUrl, String receiptHandle, int seconds, long expiresNanos) {
    queued.incrementAndGet();
    ops.add(new Op(queueUrl, receiptHandle, seconds, expiresNanos));
  }

  /**
   * Waits until every operation queued so far was sent (or given up), at most until {@code
   * deadlineNanos}.
   */
  void awaitIdle(long deadlineNanos) {
    long target = queued.get();
    LockSupport.unpark(thread);
    while (handled.get() < target && System.nanoTime() < deadlineNanos && thread.isAlive()) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
  }

  private void run() {
    long nextHeartbeat = System.nanoTime();
    List<Op> batch = new ArrayList<>();
    while (!closed || !ops.isEmpty()) {
      int taken = 0;
      try {
        Op first = ops.poll(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          taken = 1 + ops.drainTo(batch);
        }
        long now = System.nanoTime();
        if (now - nextHeartbeat >= 0) {
          nextHeartbeat = now + TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS);
          for (SqsConsumer c : consumers) {
            c.collectExtensions(now, batch);
          }
        }
        if (!batch.isEmpty()) {
          List<Op> retry = send(batch);
          batch.clear();
          if (!retry.isEmpty() && !closed) {
            // The failed ones go back in the queue, after a short pause.
            queued.addAndGet(retry.size());
            ops.addAll(retry);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
          }
        }
      } catch (InterruptedException e) {
        break;
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "sqs settler round failed", e);
        batch.clear();
      } finally {
        handled.addAndGet(taken);
      }
    }
  }

  /**
   * Sends one round; returns the operations of calls that failed as a whole and whose leases still
   * hold.
   */
  private List<Op> send(List<Op> batch) {
    Map<String, List<Op>> groups = new HashMap<>();
    for (Op op : batch) {
      groups.computeIfAbsent(op.queueUrl + '\n' + op.visibility, k -> new ArrayList<>()).add(op);
    }
    List<CompletableFuture<List<Op>>> calls = new ArrayList<>();
    for (List<Op> group : groups.values()) {
      for (int i = 0; i < group.size(); i += 10) {
        List<Op> ten = group.subList(i, Math.min(group.size(), i + 10));
        if (calls.isEmpty() && groups.size() == 1 && group.size() <= 10) {
          calls.add(CompletableFuture.completedFuture(call(ten)));
        } else {
          calls.add(CompletableFuture.supplyAsync(() -> call(ten), backend.senders()));
        }
      }
    }
    List<Op> retry = new ArrayList<>();
    for (CompletableFuture<List<Op>> c : calls) {
      try {
        retry.addAll(c.join());
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "sqs settling call failed", e);
      }
    }
    return retry;
  }

  private List<Op> call(List<Op> ops) {
    Op first = ops.get(0);
    try {
      List<BatchResultErrorEntry> failed;
      if (first.visibility < 0) {
        List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>(ops.size());
        for (int i = 0; i < ops.size(); i++) {
          entries.add(
              DeleteMessageBatchRequestEntry.builder()
                  .id(Integer.toString(i))
                  .receiptHandle(ops.get(i).receiptHandle)
                  .build());
        }
        DeleteMessageBatchResponse r =
            backend.sqs.deleteMessageBatch(b -> b.queueUrl(first.queueUrl).entries(entries));
        failed = r.failed();
      } else {
        List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>(ops.size());
        for (int i = 0; i < ops.size(); i++) {
          entries.add(
              ChangeMessageVisibilityBatchRequestEntry.builder()
                  .id(Integer.toString(i))
                  .receiptHandle(ops.get(i).receiptHandle)
                  .visibilityTimeout(ops.get(i).visibility)
                  .build());
        }
        ChangeMessageVisibilityBatchResponse r =
            backend.sqs.changeMessageVisibilityBatch(
                b -> b.queueUrl(first.queueUrl).entries(entries));
        failed = r.failed();
      }
      for (BatchResultErrorEntry f : failed) {
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                "SQS refused to "
                    + (first.visibility < 0 ? "delete" : "change the" + " visibility of")
                    + " a message of "
                    + QueueDirectory.queueName(first.queueUrl)
                    + ": "
                    + f.code()
                    + " "
                    + f.message()
                    + " (its lease had ended: SQS delivers it again)");
      }
      return List.of();
    } catch (RuntimeException e) {
      if (SqsErrors.isQueueMissing(e)) {
        return List.of(); // the queue and its messages are gone
      }
      long now = System.nanoTime();
      List<Op> retry = new ArrayList<>();
      for (Op op : ops) {
        if (op.expiresNanos - now > 0) {
          retry.add(op);
        }
      }
      LOG.log(
          System.Logger.Level.INFO,
          () ->
              "sqs settling call to "
                  + QueueDirectory.queueName(first.queueUrl)
                  + " failed; "
                  + retry.size()
                  + " of "
                  + ops.size()
                  + " kept for the next round: "
                  + e);
      return retry;
    }
  }

  void close() {
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(backend.settings.timeout().toMillis() * 2 + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      thread.interrupt();
    }
  }
}
