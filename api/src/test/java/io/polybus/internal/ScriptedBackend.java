package io.polybus.internal;

import io.polybus.Capabilities;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A backend for the runtime's unit tests: one consumer whose polls hand out the records the test
 * {@link #offer}s, in order, at most as many as asked; every settlement and mark is recorded on the
 * {@link Record}. Thread-safe.
 */
final class ScriptedBackend implements Backend {
  final LinkedBlockingDeque<Record> ready = new LinkedBlockingDeque<>();

  /** The {@code max} of every poll, in order. */
  final List<Integer> polls = new CopyOnWriteArrayList<>();

  /** Records handed out and not yet acked, released or dead-lettered. */
  final AtomicInteger outstanding = new AtomicInteger();

  final AtomicInteger mostOutstanding = new AtomicInteger();

  /** Dead letters the runtime asked for, in order (including failed attempts). */
  final List<Message> deadLetters = new CopyOnWriteArrayList<>();

  /**
   * Outcomes of the next dead-letter publishes: null = success; an exception = that failure. Empty:
   * success.
   */
  final Queue<RuntimeException> deadLetterOutcomes = new ConcurrentLinkedQueue<>();

  /** Throwables the next polls throw, one each, before polling as usual. */
  final Queue<Throwable> pollFailures = new ConcurrentLinkedQueue<>();

  volatile boolean consumerClosed;

  void offer(Record... records) {
    for (Record r : records) {
      ready.add(r);
    }
  }

  @Override
  public Capabilities capabilities() {
    return Capabilities.builder().orderedByKey(true).build();
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    List<PublishReceipt> receipts = new ArrayList<>();
    for (Message m : messages) {
      receipts.add(new PublishReceipt(topic, m.id(), "0"));
    }
    return CompletableFuture.completedFuture(receipts);
  }

  @Override
  public CompletableFuture<Void> deadLetter(
      InboundRecord record, String deadLetterTopic, Message deadLetter) {
    deadLetters.add(deadLetter);
    RuntimeException failure = deadLetterOutcomes.poll();
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    record.ack();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {}

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    return new BackendConsumer() {
      @Override
      public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
        polls.add(max);
        Throwable failure = pollFailures.poll();
        if (failure instanceof RuntimeException) {
          throw (RuntimeException) failure;
        }
        if (failure instanceof Error) {
          throw (Error) failure;
        }
        if (consumerClosed || max == 0) {
          return List.of();
        }
        // Real time, but short: the runtime's timeouts are tested with the manual clock, not here.
        Record first = ready.poll(Math.min(timeout.toMillis(), 10), TimeUnit.MILLISECONDS);
        if (first == null) {
          return List.of();
        }
        List<InboundRecord> out = new ArrayList<>();
        out.add(first);
        Record r;
        while (out.size() < max && (r = ready.poll()) != null) {
          out.add(r);
        }
        int now = outstanding.addAndGet(out.size());
        mostOutstanding.accumulateAndGet(now, Math::max);
        return out;
      }

      @Override
      public void wakeup() {}

      @Override
      public void close() {
        consumerClosed = true;
      }
    };
  }

  @Override
  public Health health() {
    return Health.up("scripted");
  }

  @Override
  public void close() {}

  /** One message as the scripted consumer hands it out. */
  final class Record implements InboundRecord {
    final Message message;
    final int deliveryCount;
    volatile boolean acked;
    volatile Duration released;
    volatile int recordedAttempts;
    volatile boolean markedNotHandled;

    Record(Message message, int deliveryCount) {
      this.message = message;
      this.deliveryCount = deliveryCount;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int deliveryCount() {
      return deliveryCount;
    }

    @Override
    public void ack() {
      settle(() -> acked = true);
    }

    @Override
    public void release(Duration delay) {
      settle(() -> released = delay);
    }

    private synchronized void settle(Runnable how) {
      if (consumerClosed || acked || released != null) {
        return;
      }
      how.run();
      outstanding.decrementAndGet();
    }

    @Override
    public void recordAttempts(int attempts) {
      recordedAttempts = Math.max(recordedAttempts, attempts);
    }

    @Override
    public void markNotHandled() {
      if (!consumerClosed) {
        markedNotHandled = true;
      }
    }

    @Override
    public String toString() {
      return message.payloadAsString();
    }
  }

  Record record(String key, String payload) {
    return record(key, payload, 1);
  }

  Record record(String key, String payload, int deliveryCount) {
    return new Record(Message.builder().key(key).payload(payload).build(), deliveryCount);
  }

  static <T> T await(Supplier<T> value, java.util.function.Predicate<T> done, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    T v;
    while (!done.test(v = value.get())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "; last seen: " + v);
      }
      Thread.onSpinWait();
      Thread.yield();
    }
    return v;
  }
}
