package io.polybus.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.AckMode;
import io.polybus.DeadLetterHeaders;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Behaviour specific to the in-memory broker, beyond the TCK: sharing by name, retention, ownership
 * hand-over.
 */
@Timeout(60)
class InMemoryBackendTest {
  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void busesOpenedOnTheSameNameShareOneBroker() throws Exception {
    String name = unique("shared");
    String topic = unique("t");
    try (Polybus a = Polybus.connect("mem:" + name);
        Polybus b = Polybus.connect("mem:" + name)) {
      CountDownLatch got = new CountDownLatch(1);
      b.subscribe(topic, "g", d -> got.countDown());
      a.publishAndWait(topic, Message.of("hello"));
      assertThat(got.await(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void brokerStateIsDiscardedWhenTheLastBusCloses() throws Exception {
    String name = unique("gone");
    String topic = unique("t");
    try (Polybus a = Polybus.connect("mem:" + name)) {
      a.publishAndWait(topic, Message.of("before"));
    }
    try (Polybus b = Polybus.connect("mem:" + name)) {
      List<String> seen = new CopyOnWriteArrayList<>();
      Subscription s =
          b.subscribe(
              topic,
              "g",
              d -> seen.add(d.message().payloadAsString()),
              SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      b.publishAndWait(topic, Message.of("after"));
      awaitSize(seen, 1);
      s.close();
      assertThat(seen).containsExactly("after");
    }
  }

  @Test
  void retentionKeepsOnlyTheNewestMessagesForReplayButNeverUnsettledOnes() throws Exception {
    String topic = unique("t");
    try (Polybus bus = Polybus.connect("mem:" + unique("ret") + "?retention=5000")) {
      // A group that exists but reads nothing pins everything.
      AtomicInteger pinnedCount = new AtomicInteger();
      CountDownLatch block = new CountDownLatch(1);
      Subscription pinned =
          bus.subscribe(
              topic,
              "pinned",
              d -> {
                block.await();
                pinnedCount.incrementAndGet();
              },
              SubscribeOptions.builder().maxInFlight(1).build());
      List<Message> batch = new ArrayList<>();
      for (int i = 0; i < 50_000; i++) {
        batch.add(Message.of(Integer.toString(i)));
      }
      bus.publishAllAndWait(topic, batch);
      block.countDown();
      await(() -> pinnedCount.get() == 50_000);
      pinned.close();

      // Everything was settled; a new EARLIEST group sees only (roughly) the retained tail.
      AtomicInteger replayed = new AtomicInteger();
      Subscription late =
          bus.subscribe(
              topic,
              "late",
              d -> replayed.incrementAndGet(),
              SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      bus.publishAndWait(topic, Message.of("trigger trim"));
      await(() -> replayed.get() > 0);
      Thread.sleep(200);
      late.close();
      assertThat(replayed.get()).isBetween(5000, 50_001);
    }
  }

  @Test
  void keyOwnershipMovesToAnotherMemberWhenTheOwnerCloses() throws Exception {
    String topic = unique("t");
    try (Polybus bus = Polybus.connect("mem:")) {
      SubscribeOptions manual =
          SubscribeOptions.builder()
              .ackMode(AckMode.MANUAL)
              .ordering(Ordering.KEY)
              .concurrency(2)
              .build();
      CountDownLatch firstHeld = new CountDownLatch(1);
      Subscription owner =
          bus.subscribe(topic, "g", d -> firstHeld.countDown(), manual); // never acks
      bus.publishAndWait(topic, Message.of("k", "0"));
      assertThat(firstHeld.await(10, TimeUnit.SECONDS)).isTrue();

      Map<String, Integer> attempts = new ConcurrentHashMap<>();
      List<String> order = new CopyOnWriteArrayList<>();
      Subscription other =
          bus.subscribe(
              topic,
              "g",
              d -> {
                order.add(d.message().payloadAsString());
                attempts.put(d.message().payloadAsString(), d.attempt());
                d.ack();
              },
              manual);
      for (int i = 1; i <= 5; i++) {
        bus.publishAndWait(topic, Message.of("k", Integer.toString(i)));
      }
      Thread.sleep(300); // the other member must not overtake the owner's unsettled message
      assertThat(order).isEmpty();
      owner.close(Duration.ZERO);
      awaitSize(order, 6);
      assertThat(order).containsExactly("0", "1", "2", "3", "4", "5");
      assertThat(attempts.get("0")).isEqualTo(2);
      other.close();
    }
  }

  @Test
  void deadLettersCarryTheReasonAndTheOriginalHeaders() throws Exception {
    String topic = unique("t");
    try (Polybus bus = Polybus.connect("mem:")) {
      List<Message> dead = new CopyOnWriteArrayList<>();
      bus.subscribe(
          topic,
          "g",
          d -> {
            throw new IllegalStateException("boom");
          },
          SubscribeOptions.builder()
              .retryPolicy(
                  RetryPolicy.builder()
                      .maxAttempts(3)
                      .initialBackoff(Duration.ofMillis(10))
                      .build())
              .build());
      bus.subscribe(
          topic + ".g.dlq",
          Polybus.DEAD_LETTER_GROUP,
          d -> dead.add(d.message()),
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      Message m = Message.builder().key("k").payload("p").header("h1", "v1").build();
      bus.publishAndWait(topic, m);
      awaitSize(dead, 1);
      Message d = dead.get(0);
      assertThat(d.id()).isEqualTo(m.id());
      assertThat(d.header("h1")).isEqualTo("v1");
      assertThat(d.header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
      assertThat(d.header(DeadLetterHeaders.ERROR_CLASS))
          .isEqualTo(IllegalStateException.class.getName());
      assertThat(d.header(DeadLetterHeaders.REASON)).contains("boom");
    }
  }

  @Test
  void throughputSmoke() throws Exception {
    String topic = unique("t");
    int n = 200_000;
    try (Polybus bus = Polybus.connect("mem:")) {
      AtomicInteger count = new AtomicInteger();
      bus.subscribe(topic, "g", d -> count.incrementAndGet());
      long t0 = System.nanoTime();
      List<Message> batch = new ArrayList<>(1000);
      for (int i = 0; i < n; i++) {
        batch.add(Message.builder().key("k" + (i % 1000)).payload(new byte[100]).build());
        if (batch.size() == 1000) {
          bus.publishAll(topic, batch);
          batch = new ArrayList<>(1000);
        }
      }
      await(() -> count.get() == n);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println(
          "throughput smoke: " + n + " in " + ms + " ms = " + (n * 1000L / Math.max(1, ms)) + "/s");
    }
  }

  private static void awaitSize(List<?> list, int size) throws InterruptedException {
    await(() -> list.size() >= size);
  }

  private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 30 s");
      }
      Thread.sleep(5);
    }
  }

  @Test
  void nativeSettingsAreRefusedNamingTheKey() {
    java.util.Map<String, Object> config = new java.util.HashMap<>();
    config.put("polybus.uri", "mem:" + unique("native"));
    config.put("polybus.mem.maxPayload", "10");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Polybus.connect(io.polybus.PolybusOptions.fromMap(config)))
        .isInstanceOf(io.polybus.ConfigurationException.class)
        .hasMessageContaining("polybus.mem.maxPayload");
  }
}
