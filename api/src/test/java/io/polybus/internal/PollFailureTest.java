package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Capabilities;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.NonTransientPolybusException;
import io.polybus.PolybusOptions;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.Subscription;
import io.polybus.TransientPolybusException;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A backend whose poll fails: the subscription must never look healthy while it cannot take records. The backend
 * here is scripted: each poll takes the next outcome from a queue (a throwable to throw, or nothing: no records).
 */
@Timeout(30)
class PollFailureTest {
  @Test
  void aNonTransientPollFailureTakesHealthDownUntilAPollWorksAgain() throws Exception {
    ScriptedBackend backend = new ScriptedBackend();
    backend.outcomes.add(new NonTransientPolybusException("group state file /x/g.state is corrupt"));
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("scripted:"), backend)) {
      Subscription s = bus.subscribe("t", "g", d -> { });
      await(() -> backend.polls.get() >= 1, "the failing poll");
      Health h = bus.health();
      assertThat(h.up()).as("health after a non-transient poll failure: %s", h).isFalse();
      assertThat(h.detail()).contains("'t'").contains("'g'").contains("/x/g.state is corrupt");
      assertThat(s.isActive()).as("still retrying: an operator may repair the cause").isTrue();

      await(() -> backend.polls.get() >= 2, "a poll that works");
      await(() -> bus.health().up(), "health up again");
    }
  }

  @Test
  void aTransientPollFailureLeavesHealthToTheBackend() throws Exception {
    ScriptedBackend backend = new ScriptedBackend();
    backend.outcomes.add(new TransientPolybusException("broker restarting"));
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("scripted:"), backend)) {
      bus.subscribe("t", "g", d -> { });
      await(() -> backend.polls.get() >= 1, "the failing poll");
      assertThat(bus.health().up()).isTrue();
    }
  }

  @Test
  void anErrorThrownByPollFailsTheSubscriptionForGoodAndVisibly() throws Exception {
    ScriptedBackend backend = new ScriptedBackend();
    backend.outcomes.add(new InternalError("a fault occurred in an unsafe memory access"));
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("scripted:"), backend)) {
      Subscription s = bus.subscribe("t", "g", d -> { });
      await(() -> !s.isActive(), "the subscription inactive");
      await(() -> backend.consumerClosed, "its consumer closed, giving its records back");
      assertThat(bus.health().up()).isFalse();
      assertThat(bus.health().detail()).contains("failed for good").contains("InternalError");
      s.close();
      assertThat(bus.health().up()).as("health once the failed subscription is closed").isTrue();
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(5);
    }
  }

  /** A backend with no messages whose polls follow a script. */
  static final class ScriptedBackend implements Backend {
    final BlockingQueue<Throwable> outcomes = new LinkedBlockingQueue<>();
    final java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean consumerClosed;

    @Override
    public Capabilities capabilities() {
      return Capabilities.builder().build();
    }

    @Override
    public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
      throw new UnsupportedOperationException("this test publishes nothing");
    }

    @Override
    public void ensureGroup(String topic, String group, StartFrom startFrom) {}

    @Override
    public BackendConsumer subscribe(ConsumerSpec spec) {
      return new BackendConsumer() {
        @Override
        public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
          Throwable t = outcomes.poll();
          polls.incrementAndGet();
          if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
          }
          if (t instanceof Error) {
            throw (Error) t;
          }
          Thread.sleep(Math.min(timeout.toMillis(), 20));
          return List.of();
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
  }
}
