package io.polybus.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import io.polybus.BackPressureException;
import io.polybus.BrokerUnavailableException;
import io.polybus.NonTransientPolybusException;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.TransientPolybusException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Publishes over one confirm-mode channel and completes each batch when the broker confirmed all
 * its messages.
 *
 * <p>Thread-safe: publishes are serialized on {@link #lock} (an AMQP channel takes one frame
 * sequence at a time); confirms arrive on the connection's thread, which only moves batches to
 * {@link #completer} so a caller's continuation can never stall the connection. A batch that is not
 * confirmed within the publish timeout, or whose channel shuts down first, fails: {@link
 * PolybusTimeoutException} or {@link BrokerUnavailableException}; a nack fails it with {@link
 * BackPressureException}, and so does a publish while the broker blocks publishers (a memory or
 * disk alarm, {@code connection.blocked}), rather than parking the caller. A failed batch may still
 * have been stored in part. A message the client refuses inside {@code basicPublish} (it found it
 * unencodable) fails its batch with a {@link NonTransientPolybusException} and never shifts the
 * confirms of later publishes (see {@link #skipped}).
 */
final class ConfirmPublisher {
  /**
   * One publish call: completes when {@code remaining} reaches zero, fails at the first failure.
   */
  static final class Batch {
    final CompletableFuture<Void> future = new CompletableFuture<>();
    final long deadlineNanos;
    final java.util.concurrent.atomic.AtomicInteger remaining;

    Batch(int size, long deadlineNanos) {
      this.remaining = new java.util.concurrent.atomic.AtomicInteger(size);
      this.deadlineNanos = deadlineNanos;
    }
  }

  /**
   * One message to send. A {@code mandatory} one that no queue takes (its queue was deleted) is
   * returned by the broker and fails its batch, instead of being confirmed and dropped.
   */
  record Out(
      String exchange,
      String routingKey,
      AMQP.BasicProperties props,
      byte[] body,
      boolean mandatory) {
    Out(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
      this(exchange, routingKey, props, body, false);
    }
  }

  private final Object lock = new Object();
  private final Connection connection;
  private final Executor completer;
  private final long timeoutNanos;
  private final String description;

  /**
   * Told when the broker closed the channel for an error of ours (for example an exchange deleted
   * meanwhile).
   */
  private final Runnable onChannelError;

  /**
   * Unconfirmed sequence numbers of the current channel. Written under lock (so numbers and frames
   * keep one order), read and removed without it by the confirm listener: the connection's reader
   * thread must never wait for a publisher that holds the lock while it writes a batch.
   */
  private final java.util.concurrent.ConcurrentSkipListMap<Long, Batch> pending =
      new java.util.concurrent.ConcurrentSkipListMap<>();

  /**
   * Why the broker blocks publishers (a memory or disk alarm), or null; a write would wait until it
   * unblocks.
   */
  private volatile String blockedReason;

  private Channel channel; // guarded by lock; replaced when closed by a channel error

  /**
   * Keys in {@link #pending} of the current channel's mandatory publishes that the broker returned
   * as unroutable. The broker sends a publish's {@code basic.return} before its {@code basic.ack},
   * and both arrive on the connection's thread in that order, so {@link #acked} finds the mark.
   * Replaced with each new channel.
   */
  private volatile java.util.Set<Long> returned =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Sequence numbers the current channel took for publishes it never sent (see {@link #publish});
   * guarded by lock. The broker numbers only what it received, so a message's key in {@link
   * #pending} is the channel's number minus this. Back to 0 whenever the numbering restarts: a new
   * channel, or a channel recovered after a connection loss.
   */
  private long skipped;

  private boolean closed; // guarded by lock

  ConfirmPublisher(
      Connection connection,
      Executor completer,
      long timeoutNanos,
      String description,
      Runnable onChannelError) {
    this.connection = connection;
    this.onChannelError = onChannelError;
    connection.addBlockedListener(
        reason -> blockedReason = reason == null ? "resource alarm" : reason,
        () -> blockedReason = null);
    this.completer = completer;
    this.timeoutNanos = timeoutNanos;
    this.description = description;
  }

  /**
   * Sends every message in order and returns a future completed when all are confirmed. Never
   * blocks on a reply.
   */
  CompletableFuture<Void> publish(List<Out> messages) {
    Batch batch = new Batch(messages.size(), System.nanoTime() + timeoutNanos);
    if (messages.isEmpty()) {
      batch.future.complete(null);
      return batch.future;
    }
    String blocked = blockedReason;
    if (blocked != null) {
      // Writing now would park the caller until the alarm clears, which may be never: fail fast
      // instead.
      batch.future.completeExceptionally(
          new BackPressureException(
              "the broker "
                  + description
                  + " blocks publishers ("
                  + blocked
                  + "); try again later"));
      return batch.future;
    }
    synchronized (lock) {
      Channel ch = null;
      long seq = 0;
      try {
        ch = channel();
        for (Out o : messages) {
          seq = ch.getNextPublishSeqNo();
          if (seq == 0) {
            // Not in confirm mode: a recovering channel between its new delegate and
            // confirm.select. Nothing sent.
            throw new IOException("the channel is being recovered (not yet in confirm mode)");
          }
          long key = seq - skipped;
          pending.put(key, batch);
          ch.basicPublish(
              o.exchange(),
              o.routingKey(),
              o.mandatory(),
              o.mandatory() ? tagged(o.props(), key) : o.props(),
              o.body());
        }
      } catch (IOException | AlreadyClosedException e) {
        fail(batch, unavailable("publishing failed", e));
        // The sequence numbers already taken may never be confirmed: drop this batch's entries now.
        pending.values().removeIf(b -> b == batch);
      } catch (RuntimeException e) {
        // The client refused the message while encoding it (amqp-client checks the frame size and
        // short strings
        // only there), so nothing of it reached the socket; yet 5.x numbers a publish before
        // encoding it. If the
        // number was taken, the broker's numbering now runs one behind the channel's: count it, or
        // every later
        // confirm would complete the wrong publish (and the last one none).
        if (ch != null && ch == channel && ch.getNextPublishSeqNo() == seq + 1) {
          skipped++;
        }
        pending.values().removeIf(b -> b == batch);
        fail(
            batch,
            new NonTransientPolybusException(
                "the RabbitMQ client refused to publish a message to "
                    + description
                    + " (that message was not sent; any before it in the batch were): "
                    + e.getMessage(),
                e));
      }
    }
    return batch.future;
  }

  /** Fails every batch older than the publish timeout; called periodically. */
  void expire() {
    long now = System.nanoTime();
    List<Batch> expired = new ArrayList<>();
    synchronized (lock) {
      Iterator<Map.Entry<Long, Batch>> it = pending.entrySet().iterator();
      while (it.hasNext()) {
        Batch b = it.next().getValue();
        if (now - b.deadlineNanos >= 0) {
          it.remove();
          if (!b.future.isDone() && !expired.contains(b)) {
            expired.add(b);
          }
        }
      }
    }
    long seconds = timeoutNanos / 1_000_000_000L;
    for (Batch b : expired) {
      fail(
          b,
          new PolybusTimeoutException(
              "the broker "
                  + description
                  + " did not confirm a publish within "
                  + (seconds > 0 ? seconds + " s" : (timeoutNanos / 1_000_000) + " ms")
                  + " (publishTimeout)"));
    }
  }

  void close() {
    List<Batch> left;
    Channel ch;
    synchronized (lock) {
      closed = true;
      left = new ArrayList<>(pending.values());
      pending.clear();
      ch = channel;
      channel = null;
    }
    for (Batch b : left) {
      fail(
          b,
          new BrokerUnavailableException(
              "the Polybus bus on "
                  + description
                  + " closed before the broker "
                  + "confirmed this publish"));
    }
    if (ch != null && ch.isOpen()) {
      try {
        ch.close();
      } catch (IOException | RuntimeException | java.util.concurrent.TimeoutException e) {
        // closing anyway
      }
    }
  }

  private Channel channel() throws IOException {
    if (closed) {
      throw new AlreadyClosedException(new ShutdownSignalException(false, true, null, this));
    }
    if (channel != null && channel.isOpen()) {
      return channel;
    }
    Channel ch = connection.createChannel();
    if (ch == null) {
      throw new IOException("no channel available on the connection");
    }
    ch.confirmSelect();
    skipped = 0;
    java.util.Set<Long> returnedHere = java.util.concurrent.ConcurrentHashMap.newKeySet();
    returned = returnedHere;
    ch.addReturnListener(
        r -> {
          Map<String, Object> h = r.getProperties().getHeaders();
          Object tag = h == null ? null : h.get(AmqpMapping.RETURN_TAG);
          if (tag instanceof Number n) {
            returnedHere.add(n.longValue());
          }
        });
    ch.addConfirmListener(this::acked, this::nacked);
    ch.addShutdownListener(cause -> channelShutDown(ch, cause));
    if (ch instanceof com.rabbitmq.client.Recoverable r) {
      // After a connection recovery the channel numbers its publishes from 1 again: nothing pending
      // survives it.
      r.addRecoveryListener(
          new com.rabbitmq.client.RecoveryListener() {
            @Override
            public void handleRecovery(com.rabbitmq.client.Recoverable recoverable) {}

            @Override
            public void handleRecoveryStarted(com.rabbitmq.client.Recoverable recoverable) {
              channelShutDown(ch, null);
            }
          });
    }
    channel = ch;
    return ch;
  }

  private void channelShutDown(Channel ch, ShutdownSignalException cause) {
    if (cause != null && !cause.isHardError() && !cause.isInitiatedByApplication()) {
      onChannelError.run();
    }
    List<Batch> left;
    synchronized (lock) {
      if (ch != channel) {
        return;
      }
      left = new ArrayList<>(pending.values());
      pending.clear();
      // A recovered channel numbers from 1 again (and a closed one is replaced by a new channel).
      skipped = 0;
    }
    String why = cause == null ? "the connection was lost" : cause.getMessage();
    for (Batch b : left) {
      fail(
          b,
          new BrokerUnavailableException(
              "the channel to "
                  + description
                  + " shut down before the broker confirmed this publish: "
                  + why));
    }
  }

  private void acked(long seq, boolean multiple) {
    List<Batch> done = null;
    java.util.Set<Long> returnedNow = returned;
    if (multiple) {
      Map.Entry<Long, Batch> e;
      while ((e = pending.firstEntry()) != null && e.getKey() <= seq) {
        if (pending.remove(e.getKey()) != null) {
          done = confirmed(e.getKey(), e.getValue(), returnedNow, done);
        }
      }
    } else {
      Batch b = pending.remove(seq);
      if (b != null) {
        done = confirmed(seq, b, returnedNow, done);
      }
    }
    if (done != null) {
      List<Batch> completed = done;
      completer.execute(
          () -> {
            for (Batch b : completed) {
              b.future.complete(null);
            }
          });
    }
  }

  /**
   * The broker confirmed the publish {@code key} of {@code b}: counts it, or fails {@code b} when
   * the broker returned it first (a mandatory publish no queue took: confirmed, yet stored
   * nowhere). Returns {@code done} with {@code b} added when this was its last message.
   */
  private List<Batch> confirmed(
      long key, Batch b, java.util.Set<Long> returnedNow, List<Batch> done) {
    if (returnedNow.remove(key)) {
      pending.values().removeIf(x -> x == b);
      fail(
          b,
          new TransientPolybusException(
              "the broker "
                  + description
                  + " returned a publish as unroutable: its queue does not exist (deleted?)"));
      return done;
    }
    return b.remaining.decrementAndGet() == 0 ? add(done, b) : done;
  }

  /** {@code props} with the {@link AmqpMapping#RETURN_TAG} of publish {@code key}. */
  private static AMQP.BasicProperties tagged(AMQP.BasicProperties props, long key) {
    Map<String, Object> h =
        props.getHeaders() == null
            ? new java.util.HashMap<>()
            : new java.util.HashMap<>(props.getHeaders());
    h.put(AmqpMapping.RETURN_TAG, key);
    return props.builder().headers(h).build();
  }

  private static List<Batch> add(List<Batch> list, Batch b) {
    List<Batch> l = list == null ? new ArrayList<>(2) : list;
    l.add(b);
    return l;
  }

  private void nacked(long seq, boolean multiple) {
    List<Batch> failed = new ArrayList<>();
    Map.Entry<Long, Batch> e;
    if (multiple) {
      while ((e = pending.firstEntry()) != null && e.getKey() <= seq) {
        if (pending.remove(e.getKey()) != null && !failed.contains(e.getValue())) {
          failed.add(e.getValue());
        }
      }
    } else {
      Batch b = pending.remove(seq);
      if (b != null) {
        failed.add(b);
      }
    }
    // A failed batch's other messages no longer matter to anyone.
    pending.values().removeIf(failed::contains);
    for (Batch b : failed) {
      fail(
          b,
          new BackPressureException(
              "the broker " + description + " refused (nacked) a publish; try again"));
    }
  }

  private void fail(Batch b, PolybusException e) {
    if (!b.future.isDone()) {
      completer.execute(() -> b.future.completeExceptionally(e));
    }
  }

  private BrokerUnavailableException unavailable(String what, Exception e) {
    return new BrokerUnavailableException(what + " on " + description + ": " + e.getMessage(), e);
  }
}
