package io.polybus.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.BrokerUnavailableException;
import io.polybus.ConfigurationException;
import io.polybus.DeadLetterHeaders;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusException;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.XAddParams;

/**
 * Redis-specific behaviour against the real server: interoperability with plain clients, crashes,
 * lost connections.
 */
@Timeout(60)
class RedisBackendTest {
  static final String PREFIX = RedisTestSupport.uniquePrefix("unit");
  static final Duration AWAIT = Duration.ofSeconds(20);

  @AfterAll
  static void deleteKeys() {
    RedisTestSupport.deleteKeys(PREFIX);
  }

  private static Polybus connect(String extra) {
    return Polybus.connect(RedisTestSupport.uri(PREFIX, extra));
  }

  private static String unique(String what) {
    return what + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- interoperability

  @Test
  void shouldConsumeEntriesAddedWithPlainJedisXaddIncludingOnesWithMissingFields() {
    String topic = unique("interop-in");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      Inbox inbox = new Inbox();
      bus.subscribe(topic, "g", inbox);
      Map<byte[], byte[]> full = new LinkedHashMap<>();
      full.put(b("payload"), new byte[] {0, (byte) 0xff, 42});
      full.put(b("id"), b("order-1"));
      full.put(b("key"), b("customer-7"));
      full.put(b("ts"), b("1700000000123"));
      full.put(b("h:trace"), b("abc"));
      full.put(b("other"), b("ignored"));
      raw.xadd(b(PREFIX + topic), XAddParams.xAddParams(), full);
      byte[] bare =
          raw.xadd(b(PREFIX + topic), XAddParams.xAddParams(), Map.of(b("payload"), b("hello")));
      String bareId = new String(bare, StandardCharsets.UTF_8);

      inbox.awaitSize(2, AWAIT, "both entries added by plain XADD");
      Message first = inbox.messages().get(0);
      assertThat(first.id()).isEqualTo("order-1");
      assertThat(first.key()).isEqualTo("customer-7");
      assertThat(first.payload()).containsExactly(0, 0xff, 42);
      assertThat(first.timestampMillis()).isEqualTo(1700000000123L);
      assertThat(first.headers()).containsExactly(Map.entry("trace", "abc"));
      Message second = inbox.messages().get(1);
      assertThat(second.id()).as("id derived from the entry id").isEqualTo("redis-" + bareId);
      assertThat(second.key()).isNull();
      assertThat(new String(second.payload(), StandardCharsets.UTF_8)).isEqualTo("hello");
      assertThat(second.timestampMillis())
          .as("timestamp from the entry id")
          .isEqualTo(Long.parseLong(bareId.substring(0, bareId.indexOf('-'))));
    }
  }

  @Test
  void shouldWriteEntriesThatPlainJedisReadsWithTheDocumentedFields() throws Exception {
    String topic = unique("interop-out");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      Message m =
          Message.builder()
              .key("k1")
              .payload(new byte[] {1, 2, 3})
              .header("a", "1")
              .header("b", "2")
              .timestampMillis(1700000000999L)
              .build();
      String position = bus.publish(topic, m).get().position();
      List<?> entries =
          (List<?>) raw.sendCommand(Command.XRANGE, b(PREFIX + topic), b("-"), b("+"));
      assertThat(entries).hasSize(1);
      List<?> e = (List<?>) entries.get(0);
      assertThat(new String((byte[]) e.get(0), StandardCharsets.UTF_8))
          .as("the receipt's position is the entry id")
          .isEqualTo(position);
      List<?> flat = (List<?>) e.get(1);
      Map<String, byte[]> fields = new HashMap<>();
      for (int i = 0; i < flat.size(); i += 2) {
        fields.put(
            new String((byte[]) flat.get(i), StandardCharsets.UTF_8), (byte[]) flat.get(i + 1));
      }
      assertThat(fields.get("payload")).containsExactly(1, 2, 3);
      assertThat(new String(fields.get("id"), StandardCharsets.UTF_8)).isEqualTo(m.id());
      assertThat(new String(fields.get("key"), StandardCharsets.UTF_8)).isEqualTo("k1");
      assertThat(new String(fields.get("ts"), StandardCharsets.UTF_8)).isEqualTo("1700000000999");
      assertThat(new String(fields.get("h:a"), StandardCharsets.UTF_8)).isEqualTo("1");
      assertThat(new String(fields.get("h:b"), StandardCharsets.UTF_8)).isEqualTo("2");
    }
  }

  // ---------------------------------------------------------------- members that die

  @Test
  void shouldReclaimTheEntriesOfAConsumerThatDiedHoldingThem() {
    String topic = unique("reclaim");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      bus.subscribe(topic, "g", new Inbox()).close(); // creates the group, then leaves
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        Message m = Message.of("m" + i);
        ids.add(m.id());
        bus.publishAndWait(topic, m);
      }
      // A consumer reads all five and dies without acking.
      raw.sendCommand(
          Command.XREADGROUP,
          "GROUP",
          "g",
          "dead-member",
          "COUNT",
          "10",
          "STREAMS",
          PREFIX + topic,
          ">");
      Inbox inbox = new Inbox();
      bus.subscribe(
          topic, "g", inbox, SubscribeOptions.builder().ackTimeout(Duration.ofMillis(500)).build());
      inbox.awaitIds(ids, AWAIT, "the dead member's entries, reclaimed after ackTimeout");
      assertThat(inbox.received())
          .extracting(Inbox.Received::attempt)
          .as("second delivery each")
          .containsOnly(2);
      Await.quietFor(Duration.ofSeconds(1));
      assertThat(inbox.ids()).as("each exactly once").containsExactlyInAnyOrderElementsOf(ids);
      Await.until(AWAIT, "the reclaimed entries acked", () -> pendingCount(raw, topic, "g") == 0);
    }
  }

  @Test
  void shouldDeadLetterWithoutCallingTheHandlerAMessageThatCrashedItsConsumersMaxAttemptsTimes() {
    String topic = unique("crashes");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      bus.subscribe(topic, "g", new Inbox()).close();
      Message poison = Message.of("crashes whoever reads it");
      bus.publishAndWait(topic, poison);
      // Two consumers took it in turn and died: the pending list counts two deliveries.
      raw.sendCommand(
          Command.XREADGROUP,
          "GROUP",
          "g",
          "crashed-1",
          "COUNT",
          "1",
          "STREAMS",
          PREFIX + topic,
          ">");
      String entryId = firstPendingId(raw, topic, "g");
      raw.sendCommand(Command.XCLAIM, PREFIX + topic, "g", "crashed-2", "0", entryId);
      Inbox dead = new Inbox();
      bus.subscribe(topic + ".g.dlq", Polybus.DEAD_LETTER_GROUP, dead);
      Inbox handler = new Inbox();
      bus.subscribe(
          topic,
          "g",
          handler,
          SubscribeOptions.builder()
              .ackTimeout(Duration.ofMillis(500))
              .retryPolicy(RetryPolicy.builder().maxAttempts(2).build())
              .build());
      dead.awaitIds(
          List.of(poison.id()), AWAIT, "the dead letter of a message that crashed 2 consumers");
      assertThat(handler.ids()).as("handler calls").isEmpty();
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("2");
      Await.until(
          AWAIT,
          "the original acked with the dead letter",
          () -> pendingCount(raw, topic, "g") == 0);
    }
  }

  @Test
  void shouldTakeOverAPartitionWhoseLeaseHolderDiedAndKeepKeyOrder() {
    String topic = unique("takeover");
    try (Polybus bus = connect("partitions=1");
        RedisClient raw = RedisTestSupport.client()) {
      String stream = PREFIX + topic + ":p0";
      bus.subscribe(topic, "g", new Inbox()).close();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Message m =
            Message.builder().key("k").payload(("m" + i).getBytes(StandardCharsets.UTF_8)).build();
        ids.add(m.id());
        bus.publishAndWait(topic, m);
      }
      // A member holds the partition's lease, reads three entries and dies.
      raw.set(
          stream + ":lease:g",
          "dead-member",
          redis.clients.jedis.params.SetParams.setParams().px(800));
      raw.sendCommand(
          Command.XREADGROUP, "GROUP", "g", "dead-member", "COUNT", "3", "STREAMS", stream, ">");
      Inbox inbox = new Inbox();
      bus.subscribe(
          topic,
          "g",
          inbox,
          SubscribeOptions.builder()
              .ordering(Ordering.KEY)
              .ackTimeout(Duration.ofMillis(800))
              .build());
      inbox.awaitIds(ids, AWAIT, "all six after the lease lapsed");
      assertThat(inbox.ids())
          .as("publish order, the dead member's three first")
          .containsExactlyElementsOf(ids);
      assertThat(inbox.received())
          .extracting(Inbox.Received::attempt)
          .containsExactly(2, 2, 2, 1, 1, 1);
    }
  }

  @Test
  void shouldCarryInPlaceAttemptsToTheNextHolderOfAPartition() throws Exception {
    String topic = unique("attempts");
    try (Polybus bus = connect("partitions=1")) {
      SubscribeOptions options =
          SubscribeOptions.builder()
              .ordering(Ordering.KEY)
              .retryPolicy(
                  RetryPolicy.builder()
                      .maxAttempts(3)
                      .initialBackoff(Duration.ofMillis(50))
                      .jitter(0)
                      .build())
              .build();
      java.util.concurrent.CountDownLatch secondAttempt =
          new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      Inbox first =
          new Inbox(
              d -> {
                if (d.attempt() == 2) {
                  secondAttempt.countDown();
                  release.await(); // still running when its member closes: given back to the group
                }
                throw new IllegalStateException("attempt " + d.attempt() + " fails");
              });
      io.polybus.Subscription a = bus.subscribe(topic, "g", first, options);
      Inbox dead = new Inbox();
      bus.subscribe(topic + ".g.dlq", Polybus.DEAD_LETTER_GROUP, dead);
      Message m = Message.builder().key("k").payload(new byte[] {1}).build();
      bus.publishAndWait(topic, m);
      assertThat(secondAttempt.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      Inbox second =
          new Inbox(
              d -> {
                throw new IllegalStateException("attempt " + d.attempt() + " fails too");
              });
      bus.subscribe(
          topic, "g", second, options); // waits: the only partition is held by the first member
      a.close(Duration.ZERO);
      release.countDown();
      dead.awaitIds(List.of(m.id()), AWAIT, "the dead letter after the third attempt");
      assertThat(first.received()).extracting(Inbox.Received::attempt).containsExactly(1, 2);
      assertThat(second.received())
          .extracting(Inbox.Received::attempt)
          .as("the next holder continues from the attempts the first one noted")
          .containsExactly(3);
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    }
  }

  // ---------------------------------------------------------------- delayed retries

  @Test
  void shouldNeitherLoseNorDuplicateRetriesWhenAMemberDiesAroundTheMove() {
    String topic = unique("mover");
    try (Polybus bus = connect("");
        RedisClient raw = RedisTestSupport.client()) {
      String stream = PREFIX + topic;
      String delayed = RedisSettings.delayed(stream, "g");
      bus.subscribe(topic, "g", new Inbox()).close();
      Message beforeMove = Message.of("parked, its mover died before moving it");
      Message afterMove = Message.of("moved, its mover died before handing it over");
      bus.publishAndWait(topic, beforeMove);
      bus.publishAndWait(topic, afterMove);
      raw.sendCommand(
          Command.XREADGROUP, "GROUP", "g", "dead-member", "COUNT", "2", "STREAMS", stream, ">");
      List<byte[]> pending = pendingIds(raw, topic, "g");
      // Both released for a retry (parked, due now), as the settler does.
      List<byte[]> args = new ArrayList<>(List.of(b("g"), b(Scripts.PARKING), b("0")));
      args.addAll(pending);
      Scripts.PARK.run(raw, List.of(b(stream), b(delayed)), args);
      // A member moves the second one (the script is atomic) and dies before its poll returns.
      raw.sendCommand(Command.ZREM, delayed, new String(pending.get(0), StandardCharsets.UTF_8));
      Object moved =
          Scripts.MOVE_DUE.run(
              raw,
              List.of(b(stream), b(delayed)),
              List.of(b("g"), b("dying-mover"), b("10"), b(Scripts.PARKING)));
      raw.sendCommand(
          Command.ZADD, delayed, "0", new String(pending.get(0), StandardCharsets.UTF_8));
      assertThat((List<?>) moved).as("moved by the dying member").hasSize(1);

      Inbox inbox = new Inbox();
      bus.subscribe(
          topic, "g", inbox, SubscribeOptions.builder().ackTimeout(Duration.ofMillis(500)).build());
      inbox.awaitIds(List.of(beforeMove.id(), afterMove.id()), AWAIT, "both retries");
      Await.quietFor(Duration.ofSeconds(1));
      assertThat(inbox.ids())
          .as("each once")
          .containsExactlyInAnyOrder(beforeMove.id(), afterMove.id());
      assertThat(inbox.of(beforeMove.id()).get(0).attempt())
          .as("parked: read once before")
          .isEqualTo(2);
      assertThat(inbox.of(afterMove.id()).get(0).attempt())
          .as("moved: read twice before")
          .isEqualTo(3);
      assertThat(raw.zcard(delayed)).as("nothing left in the delayed set").isZero();
      Await.until(AWAIT, "both acked", () -> pendingCount(raw, topic, "g") == 0);
    }
  }

  @Test
  void shouldWaitAtLeastTheDelayOfANativeRetry() {
    String topic = unique("delay");
    try (Polybus bus = connect("")) {
      AtomicInteger calls = new AtomicInteger();
      Inbox inbox =
          new Inbox(
              d -> {
                if (calls.incrementAndGet() == 1) {
                  d.retry(Duration.ofMillis(700));
                } else {
                  d.ack();
                }
              });
      bus.subscribe(
          topic, "g", inbox, SubscribeOptions.builder().ackMode(io.polybus.AckMode.MANUAL).build());
      Message m = Message.of("retry me later");
      bus.publishAndWait(topic, m);
      inbox.awaitSize(2, AWAIT, "the retry");
      List<Inbox.Received> r = inbox.received();
      assertThat(r).extracting(Inbox.Received::attempt).containsExactly(1, 2);
      assertThat(Duration.ofNanos(r.get(1).nanoTime() - r.get(0).nanoTime()))
          .isGreaterThanOrEqualTo(Duration.ofMillis(700));
    }
  }

  // ---------------------------------------------------------------- connections

  @Test
  void shouldLoseNothingWhenItsConnectionsAreKilledMidStream() throws Exception {
    String topic = unique("kill");
    String clientName = unique("polybus-killed");
    Map<String, String> config =
        Map.of(
            "polybus.uri",
            RedisTestSupport.uri(PREFIX, ""),
            "polybus.redis.clientName",
            clientName);
    try (Polybus bus = Polybus.connect(config);
        RedisClient raw = RedisTestSupport.client()) {
      Inbox inbox = new Inbox();
      bus.subscribe(topic, "g", inbox);
      AtomicBoolean publishing = new AtomicBoolean(true);
      AtomicInteger kills = new AtomicInteger();
      Thread killer =
          new Thread(
              () -> {
                while (publishing.get()) {
                  kills.addAndGet(killClients(raw, clientName));
                  try {
                    Thread.sleep(150);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
      killer.start();
      Set<String> sent = new java.util.LinkedHashSet<>();
      int failures = 0;
      for (int batch = 0; batch < 40; batch++) {
        List<Message> ms = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
          ms.add(Message.of("b" + batch + "-" + i));
        }
        while (true) { // a publish that failed transiently is published again, as an application
          // would
          try {
            bus.publishAll(topic, ms).get();
            break;
          } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(PolybusException.class);
            assertThat(((PolybusException) e.getCause()).isTransient()).isTrue();
            failures++;
          }
        }
        ms.forEach(m -> sent.add(m.id()));
        Thread.sleep(20);
      }
      publishing.set(false);
      killer.join();
      assertThat(kills.get()).as("connections killed").isPositive();
      inbox.awaitIds(
          sent,
          Duration.ofSeconds(40),
          "every message despite "
              + kills.get()
              + " killed connections and "
              + failures
              + " failed publishes");
      assertThat(inbox.distinctIds()).containsAll(sent);
    }
  }

  private static int killClients(RedisClient raw, String name) {
    int n = 0;
    String list =
        new String((byte[]) raw.sendCommand(Command.CLIENT, "LIST"), StandardCharsets.UTF_8);
    for (String line : list.split("\n")) {
      if (line.contains(" name=" + name + " ")) {
        String id = line.substring(3, line.indexOf(' '));
        raw.sendCommand(Command.CLIENT, "KILL", "ID", id);
        n++;
      }
    }
    return n;
  }

  @Test
  void shouldFailAPublishWithinTheBoundWhenRedisIsUnreachable() throws Exception {
    try (Polybus bus = connect("")) {
      assertThat(bus.health().up()).isTrue();
    }
    // Nothing listens on port 1: opening fails at once with a transient error that names no secret.
    assertThatThrownBy(() -> Polybus.connect("redis://user:s3cret@127.0.0.1:1?timeout=500ms"))
        .isInstanceOf(BrokerUnavailableException.class)
        .hasMessageNotContaining("s3cret");
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void shouldRejectBadUrisWithClearErrors() {
    assertThatThrownBy(() -> Polybus.connect("redis://127.0.0.1:6379?partition=3"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("partition");
    assertThatThrownBy(() -> Polybus.connect("redis://127.0.0.1:6379/abc"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("database");
    assertThatThrownBy(() -> Polybus.connect("redis://127.0.0.1:6379?maxLen=10&retention=1h"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxLen");
    assertThatThrownBy(
            () ->
                Polybus.connect(
                    Map.of(
                        "polybus.uri",
                        "redis://127.0.0.1:6379",
                        "polybus.redis.noSuchSetting",
                        "1")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("noSuchSetting");
    assertThatThrownBy(() -> Polybus.connect("redis://a:1,b:2"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("one host");
  }

  @Test
  void shouldTrimStreamsWithMaxLen() throws Exception {
    String topic = unique("trim");
    try (Polybus bus = connect("maxLen=100");
        RedisClient raw = RedisTestSupport.client()) {
      List<CompletableFuture<?>> fs = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        List<Message> ms = new ArrayList<>();
        for (int j = 0; j < 100; j++) {
          ms.add(Message.of("x"));
        }
        fs.add(bus.publishAll(topic, ms));
      }
      CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get();
      assertThat(raw.xlen(PREFIX + topic)).as("about maxLen entries kept of 3000").isLessThan(1000);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static long pendingCount(RedisClient raw, String topic, String group) {
    List<?> summary = (List<?>) raw.sendCommand(Command.XPENDING, PREFIX + topic, group);
    return (Long) summary.get(0);
  }

  private static List<byte[]> pendingIds(RedisClient raw, String topic, String group) {
    List<byte[]> ids = new ArrayList<>();
    for (Object o :
        (List<?>) raw.sendCommand(Command.XPENDING, PREFIX + topic, group, "-", "+", "100")) {
      ids.add((byte[]) ((List<?>) o).get(0));
    }
    return ids;
  }

  private static String firstPendingId(RedisClient raw, String topic, String group) {
    return new String(pendingIds(raw, topic, group).get(0), StandardCharsets.UTF_8);
  }
}
