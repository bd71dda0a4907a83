package io.polybus.spool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.BackPressureException;
import io.polybus.Codec;
import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool against real buses without starting a broker: {@code mem:} for the broker that takes
 * everything, and a {@code kafka://} bus pointed at a port where nothing listens for the broker
 * that is down (its publishes fail after {@code publishTimeout}, as with a stopped broker).
 */
@Timeout(120)
class SpoolTest {
  @TempDir Path tmp;

  private static final Codec<String> TEXT =
      new Codec<>() {
        @Override
        public String contentType() {
          return "text/plain";
        }

        @Override
        public String typeName() {
          return "Text";
        }

        @Override
        public byte[] encode(String value) {
          return value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String decode(byte[] payload, String contentType, String typeName) {
          return new String(payload, StandardCharsets.UTF_8);
        }
      };

  /** A Kafka bus whose broker is down: nothing listens on its port. */
  private static Polybus brokerDown() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return Polybus.connect("kafka://127.0.0.1:" + port + "?publishTimeout=1s");
  }

  private static String mem() {
    return "mem:" + UUID.randomUUID();
  }

  private static Message message(String key, int i) {
    return Message.builder()
        .key(key)
        .value(TEXT, key + ":" + i)
        .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .header("n", Integer.toString(i))
        .timestampMillis(1_700_000_000_000L + i)
        .build();
  }

  @Test
  void publishesGoDirectlyWhileTheBrokerTakesThem() throws Exception {
    try (Spool spool = Spool.open(Polybus.connect(mem()), SpoolOptions.of(tmp.resolve("s")))) {
      Inbox inbox = new Inbox();
      spool.subscribe(
          "orders", "g", inbox, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      List<CompletableFuture<PublishReceipt>> fs = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        fs.add(spool.publish("orders", message("k" + (i % 3), i)));
      }
      List<PublishReceipt> batch =
          spool.publishAllAndWait("orders", List.of(message("k0", 50), message("k0", 51)));
      for (CompletableFuture<PublishReceipt> f : fs) {
        assertThat(f.get(10, TimeUnit.SECONDS).spooled()).isFalse();
      }
      assertThat(batch).extracting(PublishReceipt::spooled).containsExactly(false, false);
      inbox.awaitSize(52, Duration.ofSeconds(10), "every message");
      assertThat(spool.pending().messages()).isZero();
      assertInKeyOrder(inbox.messages());
    }
  }

  @Test
  void badInputFailsAtOnceAndIsNeverSpooled() throws Exception {
    try (Spool spool =
        Spool.open(Polybus.connect(mem() + "?maxPayload=100"), SpoolOptions.of(tmp.resolve("s")))) {
      assertThatThrownBy(() -> spool.publish("bad topic", Message.of("x")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bad topic");
      assertThatThrownBy(() -> spool.publish("t", Message.of(new byte[101])))
          .isInstanceOf(PayloadTooLargeException.class)
          .hasMessageContaining("at most 100");
      assertThatThrownBy(() -> spool.publish("t", null)).isInstanceOf(NullPointerException.class);
      assertThat(spool.pending().messages()).isZero();
    }
  }

  @Test
  void aSecondSpoolOnTheSameDirectoryIsRefused() throws Exception {
    Path dir = tmp.resolve("s");
    try (Spool first = Spool.open(Polybus.connect(mem()), SpoolOptions.of(dir))) {
      Polybus other = Polybus.connect(mem());
      try {
        assertThatThrownBy(() -> Spool.open(other, SpoolOptions.of(dir)))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("in use");
      } finally {
        other.close();
      }
      assertThat(first.publishAndWait("t", Message.of("still fine")).spooled()).isFalse();
    }
    Spool.open(Polybus.connect(mem()), SpoolOptions.of(dir)).close(); // free again after close
  }

  @Test
  void aBacklogLeftInTheDirectoryIsForwardedFirstInKeyOrderWithNothingOvertakingIt()
      throws Exception {
    Path dir = tmp.resolve("s");
    List<Message> spooled = new ArrayList<>();
    try (Spool spool = Spool.open(brokerDown(), SpoolOptions.of(dir))) {
      List<CompletableFuture<PublishReceipt>> fs = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        Message m = message("k" + (i % 4), i);
        spooled.add(m);
        fs.add(spool.publish("orders", m));
      }
      for (CompletableFuture<PublishReceipt> f : fs) {
        PublishReceipt r = f.get(30, TimeUnit.SECONDS);
        assertThat(r.spooled()).as("receipt of %s", r.messageId()).isTrue();
        assertThat(r.position()).isEmpty();
      }
      SpoolPending p = spool.pending();
      assertThat(p.messages()).isEqualTo(30);
      assertThat(p.spoolingAll()).as("broker down").isTrue();
      assertThat(p.bytes()).isPositive();
    }

    // A new process (here: a new spool) on the same directory, with a broker that answers.
    Polybus target = Polybus.connect(mem());
    Inbox inbox = new Inbox();
    target.subscribe(
        "orders", "g", inbox, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
    try (Spool spool = Spool.open(target, SpoolOptions.of(dir))) {
      // Published while the backlog may still be on its way: spooled behind it, never ahead.
      List<Message> later = List.of(message("k0", 100), message("k1", 101), message("new", 102));
      for (Message m : later) {
        spool.publishAndWait("orders", m);
      }
      inbox.awaitSize(33, Duration.ofSeconds(20), "the backlog and the later messages");
      Await.until(Duration.ofSeconds(10), "nothing pending", () -> spool.pending().messages() == 0);
      assertThat(spool.pending().spoolingAll()).isFalse();

      Map<String, Message> byId = new HashMap<>();
      inbox.messages().forEach(m -> byId.put(m.id(), m));
      assertThat(byId).hasSize(33);
      for (Message m : spooled) {
        Message got = byId.get(m.id());
        assertThat(got).as("forwarded %s", m.id()).isEqualTo(m); // id, key, payload, headers, time
        assertThat(got.headers().keySet()).containsExactlyElementsOf(m.headers().keySet());
      }
      assertInKeyOrder(inbox.messages());
      // A key direct again once drained.
      assertThat(spool.publishAndWait("orders", message("k0", 200)).spooled()).isFalse();
    }
    try (Stream<Path> gens = Files.list(dir)) {
      assertThat(gens.filter(p -> p.getFileName().toString().startsWith("gen-")))
          .as("the drained generation was deleted; one current one is left")
          .hasSize(1);
    }
  }

  @Test
  void aFullSpoolFailsPublishesAtOnceNamingItsDirectoryAndBound() throws Exception {
    Path dir = tmp.resolve("s");
    try (Spool spool = Spool.open(brokerDown(), SpoolOptions.builder(dir).maxMessages(5).build())) {
      for (int i = 0; i < 5; i++) {
        assertThat(spool.publishAndWait("t", message("k", i)).spooled()).isTrue();
      }
      long t0 = System.nanoTime();
      CompletableFuture<PublishReceipt> sixth = spool.publish("t", message("k", 5));
      assertThatThrownBy(() -> sixth.get(1, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BackPressureException.class)
          .hasMessageContaining(dir.toAbsolutePath().toString())
          .hasMessageContaining("maxMessages 5");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
      assertThat(spool.pending().messages()).isEqualTo(5);
    }
  }

  @Test
  void aMessageTheBrokerRefusesForGoodIsParkedAndDoesNotHoldBackItsKey() throws Exception {
    Path dir = tmp.resolve("s");
    try (Spool spool = Spool.open(brokerDown(), SpoolOptions.of(dir))) {
      spool.publishAndWait("t", Message.builder().key("k").payload(new byte[500]).build());
      spool.publishAndWait("t", Message.builder().key("k").payload("small").build());
    }
    Polybus target = Polybus.connect(mem() + "?maxPayload=100"); // now too large for the broker
    Inbox inbox = new Inbox();
    target.subscribe(
        "t", "g", inbox, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
    try (Spool spool = Spool.open(target, SpoolOptions.of(dir))) {
      inbox.awaitSize(1, Duration.ofSeconds(20), "the message after the parked one");
      assertThat(inbox.messages().get(0).payloadAsString()).isEqualTo("small");
      Await.until(Duration.ofSeconds(10), "one parked", () -> spool.pending().parked() == 1);
      assertThat(spool.pending().messages()).isZero();
    }
    try (Polybus parked = Polybus.connect("log:" + dir.resolve("parked"))) {
      assertThat(parked.lag(Spool.PARKED_TOPIC, "nobody").total()).isZero();
      Inbox p = new Inbox();
      parked.subscribe(
          Spool.PARKED_TOPIC,
          "look",
          p,
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      p.awaitSize(1, Duration.ofSeconds(10), "the parked record");
      assertThat(SpoolRecord.decode(p.messages().get(0)).message.payloadSize()).isEqualTo(500);
    }
  }

  /** Per key, the numbers in header {@code n} rise in delivery order. */
  static void assertInKeyOrder(List<Message> delivered) {
    Map<String, Integer> last = new HashMap<>();
    for (Message m : delivered) {
      int n = Integer.parseInt(m.header("n"));
      Integer before = last.put(m.key(), n);
      assertThat(before == null || before < n)
          .as("%s after %s on key %s", n, before, m.key())
          .isTrue();
    }
  }
}
