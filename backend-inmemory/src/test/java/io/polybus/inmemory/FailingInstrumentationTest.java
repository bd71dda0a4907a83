package io.polybus.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spi.PortableNames;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Instrumentation can never lose or hold up a message: an observer that throws from every call is
 * logged and otherwise ignored.
 */
class FailingInstrumentationTest {

  /** Throws from every method, and from every object it hands out. */
  static final class Throwing implements Instrumentation.Observer {
    final AtomicInteger calls = new AtomicInteger();

    private RuntimeException boom(String where) {
      calls.incrementAndGet();
      return new IllegalStateException("observer fails in " + where);
    }

    @Override
    public Instrumentation.Sending publishing(String topic, List<Message> messages) {
      return new Instrumentation.Sending() {
        @Override
        public List<Message> messages() {
          throw boom("messages");
        }

        @Override
        public void completed(List<PublishReceipt> receipts, Throwable failure) {
          throw boom("completed");
        }
      };
    }

    @Override
    public Instrumentation.Attempt attempting(Delivery delivery, String partition) {
      return new Instrumentation.Attempt() {
        @Override
        public Instrumentation.Scope enter() {
          throw boom("enter");
        }

        @Override
        public void settled(Instrumentation.Outcome outcome, Throwable failure) {
          throw boom("settled");
        }
      };
    }

    @Override
    public Instrumentation.Sending deadLettering(
        Instrumentation.Attempt last, Delivery delivery, String topic, Message deadLetter) {
      throw boom("deadLettering");
    }

    @Override
    public void subscribed(Subscription subscription) {
      throw boom("subscribed");
    }

    @Override
    public void closed() {
      throw boom("closed");
    }
  }

  @Test
  void publishesDeliversAndDeadLettersDespiteAnObserverThatThrowsEverywhere() throws Exception {
    Throwing observer = new Throwing();
    try (Polybus bus = Polybus.connect("mem:", b -> observer)) {
      ConcurrentLinkedQueue<String> handled = new ConcurrentLinkedQueue<>();
      bus.subscribe(
          "orders",
          "email",
          d -> {
            handled.add(d.message().payloadAsString() + "#" + d.attempt());
            if (d.message().payloadAsString().equals("poison")) {
              throw new IllegalStateException("poison");
            }
          },
          SubscribeOptions.builder()
              .retryPolicy(
                  RetryPolicy.builder()
                      .maxAttempts(2)
                      .initialBackoff(Duration.ofMillis(1))
                      .jitter(0)
                      .build())
              .build());
      ConcurrentLinkedQueue<String> dead = new ConcurrentLinkedQueue<>();
      bus.subscribe(
          PortableNames.deadLetterTopic("orders", "email"),
          Polybus.DEAD_LETTER_GROUP,
          d -> dead.add(d.message().payloadAsString()),
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      PublishReceipt r = bus.publish("orders", Message.of("fine")).get(5, TimeUnit.SECONDS);
      assertThat(r.messageId()).isNotNull();
      bus.publishAndWait("orders", Message.of("poison"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while ((dead.isEmpty() || handled.size() < 3) && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(handled).containsExactlyInAnyOrder("fine#1", "poison#1", "poison#2");
      assertThat(dead).containsExactly("poison");
    }
    assertThat(observer.calls.get()).as("observer calls that threw").isGreaterThan(5);
  }
}
