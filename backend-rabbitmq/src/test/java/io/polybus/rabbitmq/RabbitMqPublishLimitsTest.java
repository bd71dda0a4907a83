package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Messages whose key, id or headers do not fit AMQP's frame or short-string limits: each is either
 * carried or refused before anything is sent, and the backend's publisher confirms stay matched to
 * their publishes afterwards (a refused message used to leave every later publish waiting for a
 * confirm that never came). The messages go to the backend directly, as restored messages, so that
 * what is proven here is the backend's own guarantee, whatever limits the API checks before it.
 */
class RabbitMqPublishLimitsTest {
  /**
   * Short, so that a desynchronised confirm fails the test in seconds rather than after the default
   * 30 s.
   */
  private static final String URI = TestBroker.URI + "?publishTimeout=5s";

  static {
    TestBroker.record();
  }

  @AfterAll
  static void deleteWhatTheTestsDeclared() throws Exception {
    TestBroker.deleteDeclared();
  }

  private static String unique(String what) {
    return "rmq-" + what + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static Message message(String id, String key, Map<String, String> headers) {
    return Messages.restore(
        id, key, "x".getBytes(StandardCharsets.UTF_8), headers, System.currentTimeMillis());
  }

  private static Backend open() {
    return new RabbitMqBackendProvider().open(PolybusOptions.parse(URI));
  }

  /**
   * A plain AMQP queue bound to the topic's exchange: it receives what is published from now on.
   */
  private static String tap(Backend backend, Channel ch, String topic) throws Exception {
    backend.ensureGroup(topic, "g", io.polybus.StartFrom.LATEST); // declares the exchange
    String q =
        ch.queueDeclare().getQueue(); // exclusive, auto-delete: gone with the test's connection
    ch.queueBind(q, RabbitNames.exchange(topic), "");
    return q;
  }

  private static List<Message> drain(Channel ch, String q, int expected) throws Exception {
    List<Message> got = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (got.size() < expected && System.nanoTime() < deadline) {
      GetResponse r = ch.basicGet(q, true);
      if (r == null) {
        Thread.sleep(20);
        continue;
      }
      got.add(
          AmqpMapping.read(
                  r.getEnvelope().getExchange(),
                  r.getEnvelope().getRoutingKey(),
                  r.getProps(),
                  r.getBody())
              .message());
    }
    Thread.sleep(200);
    GetResponse extra = ch.basicGet(q, true);
    assertThat(extra).as("no message beyond the %d expected", expected).isNull();
    return got;
  }

  private static void publish(Backend backend, String topic, Message... messages) throws Exception {
    backend.publish(topic, List.of(messages)).get(10, TimeUnit.SECONDS);
  }

  private static void assertRefusedBeforeSending(
      Backend backend, String topic, Message... messages) {
    CompletableFuture<?> f = backend.publish(topic, List.of(messages));
    assertThat(f).as("refused at once, nothing sent").isCompletedExceptionally();
    assertThatThrownBy(f::join).cause().isInstanceOf(PayloadTooLargeException.class);
  }

  @Test
  @Timeout(60)
  void shouldRefuseAKeyLargerThanAFrameBeforeSendingAndKeepConfirmingLaterPublishes()
      throws Exception {
    String topic = unique("big-key");
    try (Backend backend = open();
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      String q = tap(backend, ch, topic);
      Message big = message("big-key", "k".repeat(1 << 20), Map.of());
      CompletableFuture<?> f = backend.publish(topic, List.of(big));
      assertThatThrownBy(f::join)
          .cause()
          .isInstanceOf(PayloadTooLargeException.class)
          .hasMessageContaining("big-key")
          .hasMessageContaining("frame_max");
      publish(backend, topic, message("after-1", "k", Map.of()));
      publish(
          backend, topic, message("after-2", null, Map.of()), message("after-3", "k", Map.of()));
      assertThat(drain(ch, q, 3))
          .extracting(Message::id)
          .containsExactly("after-1", "after-2", "after-3");
    }
  }

  @Test
  @Timeout(60)
  void shouldRefuseAHeaderValueLargerThanAFrameAndPublishNothingOfItsBatch() throws Exception {
    String topic = unique("big-header");
    try (Backend backend = open();
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      String q = tap(backend, ch, topic);
      assertRefusedBeforeSending(
          backend,
          topic,
          message("fits", null, Map.of()),
          message("big-header", null, Map.of("blob", "v".repeat(200 * 1024))));
      publish(backend, topic, message("after", "k", Map.of("small", "v")));
      assertThat(drain(ch, q, 1)).extracting(Message::id).containsExactly("after");
    }
  }

  @Test
  @Timeout(60)
  void shouldCarryAMessageIdLongerThanAnAmqpShortString() throws Exception {
    String topic = unique("long-id");
    try (Backend backend = open();
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      String q = tap(backend, ch, topic);
      String id = "\u4e2d".repeat(200); // 200 characters, 600 UTF-8 bytes
      publish(backend, topic, message(id, "k", Map.of("h", "v")));
      publish(backend, topic, message("after", "k", Map.of()));
      List<Message> got = drain(ch, q, 2);
      assertThat(got).extracting(Message::id).containsExactly(id, "after");
      assertThat(got.get(0).headers())
          .as("the id header is transport, not shown")
          .containsExactly(Map.entry("h", "v"));
    }
  }

  @Test
  @Timeout(60)
  void shouldRefuseAHeaderNameLongerThan255BytesNamingTheLimitAndKeepConfirming() throws Exception {
    String topic = unique("long-name");
    try (Backend backend = open();
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      String q = tap(backend, ch, topic);
      Message m = message("long-name", null, Map.of("\u00e9".repeat(128), "v")); // a 256-byte name
      CompletableFuture<?> f = backend.publish(topic, List.of(m));
      assertThatThrownBy(f::join)
          .cause()
          .isInstanceOf(PayloadTooLargeException.class)
          .hasMessageContaining("header name")
          .hasMessageContaining("255");
      publish(backend, topic, message("after", "k", Map.of()));
      assertThat(drain(ch, q, 1)).extracting(Message::id).containsExactly("after");
    }
  }

  @Test
  void shouldNeverEstimateAContentHeaderSmallerThanTheClientEncodesIt() {
    java.util.Random random = new java.util.Random(42);
    String[] alphabet = {
      "a", "\u00e9", "\u4e2d", "\ud83d\ude00"
    }; // 1, 2, 3 and 4 (a surrogate pair) UTF-8 bytes
    for (int run = 0; run < 200; run++) {
      Map<String, String> headers = new java.util.LinkedHashMap<>();
      int count = random.nextInt(5);
      for (int i = 0; i < count; i++) {
        headers.put(
            "h" + i + text(random, alphabet, random.nextInt(40)),
            text(random, alphabet, random.nextInt(200)));
      }
      Message m =
          message(
              text(random, alphabet, 1 + random.nextInt(300)),
              random.nextBoolean() ? null : text(random, alphabet, 1 + random.nextInt(300)),
              headers);
      com.rabbitmq.client.AMQP.BasicProperties props =
          AmqpMapping.properties(m, random.nextInt(3) - 1, random.nextInt(3));
      assertThat(AmqpMapping.contentHeaderBound(props))
          .as("bound for %s", m)
          .isGreaterThanOrEqualTo(AmqpMapping.contentHeaderFrameSize(props, 1));
    }
  }

  private static String text(java.util.Random random, String[] alphabet, int length) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < length) {
      sb.append(alphabet[random.nextInt(alphabet.length)]);
    }
    return sb.toString();
  }
}
