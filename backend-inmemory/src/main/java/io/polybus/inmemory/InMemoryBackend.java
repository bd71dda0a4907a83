package io.polybus.inmemory;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The in-memory backend: publishing appends to the topic's log and completes at once; each group
 * reads the log with its own cursor. Thread-safe. See {@link MemTopic} for the data structures and
 * {@link InMemoryBackendProvider} for the URI.
 */
final class InMemoryBackend implements Backend {
  private final MemBroker broker;
  private final Capabilities capabilities;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Scheduled messages wait in memory until due; the bound only keeps a mistaken delay (a year for
   * a day) from being accepted silently.
   */
  static final Duration MAX_DELIVERY_DELAY = Duration.ofDays(30);

  InMemoryBackend(MemBroker broker, int maxPayloadBytes) {
    this.broker = broker;
    this.capabilities =
        Capabilities.builder()
            .orderedByKey(true)
            .replay(true)
            .replayFromTimestamp(true)
            .replayFromOffset(true)
            .durable(false)
            .uncountedGiveBack(true)
            .nativeDelayedRetry(true)
            .mayDuplicate(false)
            .lagAccuracy(ConsumerLag.Accuracy.EXACT)
            .maxPayloadBytes(maxPayloadBytes)
            .maxHeaders(64)
            .maxDeliveryDelay(MAX_DELIVERY_DELAY)
            .build();
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
    if (anyDelayed(messages)) {
      long[] offsets = broker.topic(topic).appendOrSchedule(messages, System.currentTimeMillis());
      List<PublishReceipt> receipts = new ArrayList<>(offsets.length);
      for (int i = 0; i < offsets.length; i++) {
        receipts.add(
            new PublishReceipt(
                topic, messages.get(i).id(), offsets[i] < 0 ? "" : Long.toString(offsets[i])));
      }
      return CompletableFuture.completedFuture(receipts);
    }
    long first = broker.topic(topic).append(messages);
    // Receipts are made when read: most batch publishers never look at them.
    List<PublishReceipt> receipts =
        new AbstractList<>() {
          @Override
          public PublishReceipt get(int i) {
            return new PublishReceipt(topic, messages.get(i).id(), Long.toString(first + i));
          }

          @Override
          public int size() {
            return messages.size();
          }
        };
    return CompletableFuture.completedFuture(receipts);
  }

  private static boolean anyDelayed(List<Message> messages) {
    for (Message m : messages) {
      if (m.headers().containsKey(Message.DELIVER_AT_HEADER)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void ensureGroup(String topic, String group, StartFrom startFrom) {
    broker.topic(topic).ensureGroup(group, startFrom);
  }

  @Override
  public BackendConsumer subscribe(ConsumerSpec spec) {
    MemTopic.Member member = broker.topic(spec.topic()).join(spec);
    return new BackendConsumer() {
      @Override
      public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
        return member.poll(max, timeout);
      }

      @Override
      public void wakeup() {
        member.wakeup();
      }

      @Override
      public void close() {
        member.close();
      }
    };
  }

  @Override
  public ConsumerLag lag(String topic, String group) {
    return broker.topic(topic).lag(group, Instant.now());
  }

  /**
   * Removes the topic (its log and every group) from this named broker. Exact name only: {@code a}
   * never touches {@code a.b}. Always true: an absent topic is as deleted as it gets.
   */
  @Override
  public boolean deleteTopic(String topic) {
    broker.delete(topic);
    return true;
  }

  @Override
  public Health health() {
    return closed.get()
        ? Health.down("in-memory broker '" + broker.name + "': this backend is closed")
        : Health.up(
            "in-memory broker '" + broker.name + "' with " + broker.topicCount() + " topics");
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      broker.release();
    }
  }
}
