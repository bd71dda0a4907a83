package io.polybus.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import io.polybus.Message;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.InboundRecord;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One group member: a channel with one AMQP consumer per queue of the group (one queue, or one per
 * partition), a prefetch ({@code basic.qos}) sized from {@code maxInFlight}, and a local buffer
 * that {@link #poll} drains.
 *
 * <p>Threading: deliveries arrive on the client's consumer threads and are only queued; {@link
 * #poll} runs on the runtime's poll thread; records are settled from any thread ({@code basic.ack}
 * and {@code basic.nack} are single frames with no reply, so they never wait on the broker; acks
 * are coalesced by {@link AckBatcher}). Delivery tags belong to one incarnation of the channel:
 * after the connection recovers, tags start again at 1, so a record from before (which the broker
 * has already given back to the queue) is never settled on the new channel; {@link #epoch} tells
 * them apart.
 */
final class RabbitMqConsumer implements BackendConsumer {
  private static final Object WAKE = new Object();

  private final RabbitMqBackend backend;
  private final Channel channel;
  private final List<String> queues;
  private final String description;
  private final LinkedBlockingQueue<Object> buffer = new LinkedBlockingQueue<>();
  private final List<String> consumerTags = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Wait-queue republishes in progress; close lets them finish so a message is not both waiting and
   * requeued.
   */
  private final AtomicInteger pendingReleases = new AtomicInteger();

  /**
   * The delivery tags of the current channel incarnation that were neither acked nor nacked yet,
   * with their queue: what the broker counts as unacknowledged on this channel, read by {@link
   * RabbitMqBackend#lag}. Cleared when the channel goes (the broker requeues all of it).
   */
  private final Map<Long, String> held = new ConcurrentHashMap<>();

  private volatile int epoch;
  private final AckBatcher acks;
  private final java.util.concurrent.ScheduledFuture<?> flusher;

  RabbitMqConsumer(
      RabbitMqBackend backend,
      Channel channel,
      List<String> queues,
      int prefetch,
      String description)
      throws IOException {
    this.backend = backend;
    this.channel = channel;
    this.queues = queues;
    this.description = description;
    this.acks = new AckBatcher(channel);
    channel.addShutdownListener(
        cause -> {
          // The broker requeues everything this channel held; records handed out before are stale
          // from now on.
          acks.reset(++epoch);
          held.clear();
          buffer.clear();
          buffer.add(WAKE);
        });
    if (channel instanceof Recoverable r) {
      r.addRecoveryListener(
          new RecoveryListener() {
            @Override
            public void handleRecovery(Recoverable recoverable) {}

            @Override
            public void handleRecoveryStarted(Recoverable recoverable) {
              acks.reset(++epoch);
              held.clear();
              buffer.clear();
            }
          });
    }
    channel.basicQos(prefetch, false);
    for (String q : queues) {
      // One AMQP consumer per queue, so each record knows the queue a delayed retry must come back
      // to.
      DefaultConsumer consumer =
          new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(
                String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
              if (closed.get()) {
                return; // closing the channel gives it back
              }
              AmqpMapping.Read read =
                  AmqpMapping.read(env.getExchange(), env.getRoutingKey(), props, body);
              held.put(env.getDeliveryTag(), q);
              backend.sawDelivery(props);
              buffer.add(new Record(read, env.getDeliveryTag(), epoch, q));
            }

            @Override
            public void handleCancel(String tag) {
              // The broker cancelled us (the queue was deleted): nothing more will come; say so
              // rather than go quiet.
              backend.log(
                  System.Logger.Level.WARNING,
                  "RabbitMQ cancelled the consumer of queue "
                      + q
                      + " on "
                      + RabbitMqConsumer.this.description
                      + " (queue deleted?): this member receives nothing more from it");
            }
          };
      consumerTags.add(channel.basicConsume(q, false, consumer));
    }
    // Acks leave in multiple-ack frames of up to 64 from the acking thread; this sends the rest
    // within 5 ms.
    this.flusher = backend.every(5, this::flushAcks);
  }

  private void flushAcks() {
    try {
      acks.flush(true);
    } catch (IOException | RuntimeException e) {
      // The channel is gone: the broker gives the messages back, as after any connection loss.
      backend.log(
          System.Logger.Level.DEBUG, "acks on " + description + " not sent: " + e.getMessage());
    }
  }

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
    if (max <= 0 || closed.get()) {
      return List.of();
    }
    List<InboundRecord> out = new ArrayList<>(Math.min(max, 64));
    Object first = buffer.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (first instanceof Record r) {
      out.add(r);
    }
    if (first == null || closed.get()) {
      return out;
    }
    while (out.size() < max) {
      Object o = buffer.poll();
      if (o == null) {
        break;
      }
      if (o instanceof Record r) {
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public void wakeup() {
    buffer.add(WAKE);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    buffer.add(WAKE);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (pendingReleases.get() > 0 && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    flusher.cancel(false);
    flushAcks();
    try {
      for (String tag : consumerTags) {
        channel.basicCancel(tag);
      }
    } catch (IOException | RuntimeException e) {
      // closing the channel below cancels them anyway
    }
    // Closing the channel gives every unacked delivery back to its queue; quorum queues count it as
    // a delivery.
    backend.closeQuietly(channel);
    held.clear();
    backend.closed(this);
    buffer.clear();
  }

  /** The deliveries of {@code queue} this member holds unacknowledged. */
  long held(String queue) {
    long n = 0;
    for (String q : held.values()) {
      if (q.equals(queue)) {
        n++;
      }
    }
    return n;
  }

  /** One leased delivery. */
  final class Record implements InboundRecord {
    private final Message message;
    private final int deliveryCount;
    private final long tag;
    private final int recordEpoch;
    private final String queue;

    Record(AmqpMapping.Read read, long tag, int epoch, String queue) {
      this.message = read.message();
      // x-delivery-count: how often this copy was returned to the queue; prior: attempts before a
      // wait queue.
      this.deliveryCount = read.priorAttempts() + read.brokerDeliveryCount() + 1;
      this.tag = tag;
      this.recordEpoch = epoch;
      this.queue = queue;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int deliveryCount() {
      return deliveryCount;
    }

    private boolean live() {
      return !closed.get() && recordEpoch == epoch;
    }

    @Override
    public void ack() {
      if (!live()) {
        return;
      }
      held.remove(tag);
      try {
        acks.ack(tag, recordEpoch);
      } catch (IOException | RuntimeException e) {
        // The channel is gone: the broker gives the message back; it comes again, as after any
        // connection loss.
        backend.log(
            System.Logger.Level.DEBUG, "ack on " + description + " not sent: " + e.getMessage());
      }
    }

    @Override
    public void release(Duration delay) {
      if (!live()) {
        return;
      }
      if (delay.isZero() || delay.isNegative()) {
        held.remove(tag);
        try {
          acks.nack(tag, recordEpoch);
        } catch (IOException | RuntimeException e) {
          backend.log(
              System.Logger.Level.DEBUG, "nack on " + description + " not sent: " + e.getMessage());
        }
        return;
      }
      pendingReleases.incrementAndGet();
      backend
          .delayRelease(queue, message, deliveryCount, delay)
          .whenComplete(
              (ok, err) -> {
                try {
                  if (err == null) {
                    ack(); // the copy waits in the wait queue now
                  } else {
                    backend.log(
                        System.Logger.Level.WARNING,
                        "delayed retry on "
                            + description
                            + " could not reach its wait queue, retrying now instead: "
                            + err.getMessage());
                    if (live()) {
                      held.remove(tag);
                      acks.nack(tag, recordEpoch);
                    }
                  }
                } catch (IOException | RuntimeException e) {
                  backend.log(
                      System.Logger.Level.DEBUG,
                      "nack on " + description + " not sent: " + e.getMessage());
                } finally {
                  pendingReleases.decrementAndGet();
                }
              });
    }
  }
}
