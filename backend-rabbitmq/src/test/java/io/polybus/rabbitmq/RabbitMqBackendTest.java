package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.polybus.BrokerUnavailableException;
import io.polybus.ConfigurationException;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the TCK cannot see: interoperability with plain AMQP clients, wait queues, connection loss,
 * cleanup.
 */
class RabbitMqBackendTest {
  private static final Duration AWAIT = Duration.ofSeconds(30);

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

  @Test
  @Timeout(60)
  void shouldConsumeMessagesPublishedByAPlainAmqpClient() throws Exception {
    String topic = unique("from-raw");
    try (Polybus bus = Polybus.connect(TestBroker.URI);
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      Inbox inbox = new Inbox();
      bus.subscribe(topic, "g", inbox);
      ch.confirmSelect();
      // No message id, no timestamp: Polybus derives a stable id and takes the routing key as the
      // key.
      ch.basicPublish(
          topic,
          "customer-7",
          new AMQP.BasicProperties.Builder().headers(Map.of("tenant", "acme", "count", 3)).build(),
          "plain".getBytes(StandardCharsets.UTF_8));
      ch.basicPublish(
          topic,
          "",
          new AMQP.BasicProperties.Builder().messageId("raw-id-1").deliveryMode(2).build(),
          new byte[] {1, 2, 3});
      ch.waitForConfirmsOrDie(10_000);
      inbox.awaitSize(2, AWAIT, "two messages from a plain publisher");
      Message first = inbox.messages().get(0);
      assertThat(first.key()).isEqualTo("customer-7");
      assertThat(new String(first.payload(), StandardCharsets.UTF_8)).isEqualTo("plain");
      assertThat(first.headers())
          .containsEntry("tenant", "acme")
          .containsEntry("count", "3")
          .hasSize(2);
      assertThat(first.id()).as("id derived from the content").hasSize(36);
      Message second = inbox.messages().get(1);
      assertThat(second.id()).isEqualTo("raw-id-1");
      assertThat(second.key()).as("empty routing key: no key").isNull();
      assertThat(second.payload()).containsExactly(1, 2, 3);
    }
  }

  @Test
  @Timeout(60)
  void shouldDeliverPolybusMessagesToAPlainAmqpConsumer() throws Exception {
    String topic = unique("to-raw");
    try (Polybus bus = Polybus.connect(TestBroker.URI);
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      bus.publishAndWait(topic, Message.of("warm-up", "declares the exchange"));
      String q = ch.queueDeclare().getQueue(); // exclusive, auto-delete: gone with this connection
      ch.queueBind(q, topic, "");
      Message m =
          Message.builder().key("order-42").payload("hello").header("tenant", "acme").build();
      bus.publishAndWait(topic, m);
      GetResponse got = null;
      long deadline = System.nanoTime() + AWAIT.toNanos();
      while (got == null && System.nanoTime() < deadline) {
        got = ch.basicGet(q, true);
        if (got == null) {
          Thread.sleep(20);
        }
      }
      assertThat(got).as("the message at a plain consumer").isNotNull();
      assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
      assertThat(got.getEnvelope().getRoutingKey()).isEqualTo("order-42");
      assertThat(got.getProps().getMessageId()).isEqualTo(m.id());
      assertThat(got.getProps().getDeliveryMode()).as("persistent").isEqualTo(2);
      assertThat(got.getProps().getHeaders().get("tenant")).hasToString("acme");
      assertThat(got.getProps().getHeaders().get(AmqpMapping.TIMESTAMP))
          .isEqualTo(m.timestampMillis());
    }
  }

  @Test
  @Timeout(60)
  void shouldNotLoseADelayedRetryWhenItsWaitQueueWasDeletedBehindTheBusesBack() throws Exception {
    String topic = unique("wait-gone");
    Duration backoff = Duration.ofMillis(200);
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(3)
            .initialBackoff(backoff)
            .multiplier(1.0)
            .jitter(0)
            .build();
    try (Polybus bus = Polybus.connect(TestBroker.URI);
        Connection raw = TestBroker.rawConnection()) {
      // Each message fails its first attempt (a delayed retry through the wait queue) and is
      // handled by its second.
      Inbox inbox =
          new Inbox(
              d -> {
                if (d.attempt() == 1) {
                  throw new IllegalStateException("first attempt fails");
                }
              });
      bus.subscribe(
          topic,
          "g",
          inbox,
          SubscribeOptions.builder().ordering(Ordering.NONE).retryPolicy(policy).build());
      Message first = Message.of("k", "first");
      bus.publishAndWait(topic, first);
      inbox.awaitSize(2, AWAIT, "the first message's retry, through the wait queue");
      String waitQueue =
          RabbitNames.waitQueue(
              RabbitNames.groupQueue(topic, "g"), RabbitNames.waitStepMillis(backoff));
      assertThat(TestBroker.queueExists(raw, waitQueue)).as("wait queue %s", waitQueue).isTrue();

      try (Channel ch = raw.createChannel()) {
        ch.queueDelete(waitQueue); // an operator cleaning up, say
      }
      Message second = Message.of("k", "second");
      bus.publishAndWait(topic, second);
      // Its copy to the deleted wait queue is returned unroutable, so the original is not acked:
      // it is retried at once instead, and the wait queue is declared again for the next one.
      inbox.awaitSize(4, AWAIT, "the second message's retry although its wait queue was gone");
      assertThat(inbox.of(second.id())).extracting(Inbox.Received::attempt).containsExactly(1, 2);

      Message third = Message.of("k", "third");
      bus.publishAndWait(topic, third);
      inbox.awaitSize(6, AWAIT, "the third message's retry, through the declared-again wait queue");
      assertThat(TestBroker.queueExists(raw, waitQueue))
          .as("wait queue %s again", waitQueue)
          .isTrue();
    }
  }

  @Test
  @Timeout(60)
  void shouldWaitForEachRetryInAWaitQueueAtLeastTheBackoff() throws Exception {
    String topic = unique("wait");
    Duration backoff = Duration.ofMillis(400);
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(3)
            .initialBackoff(backoff)
            .multiplier(1.0)
            .jitter(0)
            .build();
    try (Polybus bus = Polybus.connect(TestBroker.URI);
        Connection raw = TestBroker.rawConnection()) {
      Inbox inbox =
          new Inbox(
              d -> {
                throw new IllegalStateException("fails every time");
              });
      bus.subscribe(
          topic,
          "g",
          inbox,
          SubscribeOptions.builder().ordering(Ordering.NONE).retryPolicy(policy).build());
      Message m = Message.of("k", "retried");
      bus.publishAndWait(topic, m);
      inbox.awaitSize(3, AWAIT, "three attempts");
      List<Inbox.Received> got = inbox.received();
      assertThat(got).extracting(Inbox.Received::attempt).containsExactly(1, 2, 3);
      for (int i = 1; i < got.size(); i++) {
        long gap = TimeUnit.NANOSECONDS.toMillis(got.get(i).nanoTime() - got.get(i - 1).nanoTime());
        assertThat(gap)
            .as("gap before attempt %d", i + 1)
            .isGreaterThanOrEqualTo(backoff.toMillis());
      }
      String waitQueue =
          RabbitNames.waitQueue(
              RabbitNames.groupQueue(topic, "g"), RabbitNames.waitStepMillis(backoff));
      assertThat(TestBroker.queueExists(raw, waitQueue)).as("wait queue %s", waitQueue).isTrue();
    }
  }

  @Test
  @Timeout(120)
  void shouldLoseNoConfirmedMessageWhenTheBrokerClosesEveryConnectionMidStream() throws Exception {
    String vhost = unique("vhost");
    rabbitmqctl("add_vhost", vhost);
    try {
      rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
      String uri = TestBroker.URI + "/" + vhost;
      String topic = unique("drop");
      try (Polybus bus = Polybus.connect(uri)) {
        Inbox inbox = new Inbox();
        bus.subscribe(topic, "g", inbox);
        List<String> confirmed = new ArrayList<>();
        int failures = 0;
        for (int batch = 0; batch < 20; batch++) {
          if (batch == 8) {
            rabbitmqctl(
                "close_all_connections",
                "-p",
                vhost,
                "polybus test: connection dropped mid-stream");
          }
          List<Message> messages = new ArrayList<>();
          for (int i = 0; i < 100; i++) {
            messages.add(Message.of("k" + (i % 7), "b" + batch + "-" + i));
          }
          // A publish that fails while the connection recovers is tried again, as an application
          // would.
          long deadline = System.nanoTime() + AWAIT.toNanos();
          while (true) {
            try {
              bus.publishAllAndWait(topic, messages);
              break;
            } catch (PolybusException e) {
              failures++;
              assertThat(e.isTransient()).as("failure while the broker is away: %s", e).isTrue();
              assertThat(System.nanoTime() - deadline)
                  .as("recovered within %s", AWAIT)
                  .isNegative();
              Thread.sleep(200);
            }
          }
          messages.forEach(m -> confirmed.add(m.id()));
        }
        int failed = failures;
        Await.until(
            AWAIT,
            () ->
                "every confirmed message delivered ("
                    + inbox.distinctIds().size()
                    + " of "
                    + confirmed.size()
                    + "; "
                    + failed
                    + " publishes failed and were tried again)",
            () -> inbox.distinctIds().containsAll(confirmed));
        assertThat(inbox.distinctIds()).containsAll(confirmed);
        assertThat(bus.health().up()).as("health after recovery: %s", bus.health()).isTrue();
      }
    } finally {
      rabbitmqctl("delete_vhost", vhost);
    }
  }

  @Test
  @Timeout(60)
  void shouldLeaveNothingBehindWhenTheTestsDeleteWhatTheBackendDeclared() throws Exception {
    String topic = unique("cleanup");
    try (Polybus bus = Polybus.connect(TestBroker.URI + "?partitions=2");
        Connection raw = TestBroker.rawConnection()) {
      bus.subscribe(topic, "g", new Inbox()).close();
      List<String> names =
          List.of(
              topic,
              RabbitNames.partitionExchange(topic),
              RabbitNames.partitionQueue(topic, "g", 0),
              RabbitNames.partitionQueue(topic, "g", 1));
      assertThat(TestBroker.declared()).containsAll(names);
      assertThat(TestBroker.exchangeExists(raw, topic)).isTrue();
      assertThat(TestBroker.queueExists(raw, names.get(2))).isTrue();
      TestBroker.deleteDeclared();
      for (String n : names) {
        assertThat(TestBroker.queueExists(raw, n) || TestBroker.exchangeExists(raw, n))
            .as("%s deleted", n)
            .isFalse();
      }
    }
  }

  @Test
  @Timeout(60)
  void shouldDeclareTheExchangeAgainAfterItWasDeletedBehindTheBackendsBack() throws Exception {
    String topic = unique("redeclare");
    try (Polybus bus = Polybus.connect(TestBroker.URI);
        Connection raw = TestBroker.rawConnection();
        Channel ch = raw.createChannel()) {
      Inbox inbox = new Inbox();
      bus.publishAndWait(topic, Message.of("before"));
      ch.exchangeDelete(topic);
      // The first publish after the deletion may fail (the broker closes the channel: NOT_FOUND),
      // as a transient
      // failure; the backend then declares the exchange again and the next publish goes through.
      try {
        bus.publishAndWait(topic, Message.of("during"));
      } catch (PolybusException e) {
        assertThat(e.isTransient()).as("%s", e).isTrue();
      }
      bus.subscribe(topic, "g", inbox);
      Message after = Message.of("after");
      bus.publishAndWait(topic, after);
      inbox.awaitIds(
          List.of(after.id()), AWAIT, "the message published after the exchange came back");
    }
  }

  @Test
  @Timeout(30)
  void shouldFailToConnectWithBrokerUnavailableWhenNothingListens() {
    long start = System.nanoTime();
    assertThatThrownBy(
            () -> Polybus.connect("rabbitmq://guest:s3cret@127.0.0.1:1?connectTimeout=2s"))
        .isInstanceOf(BrokerUnavailableException.class)
        .hasMessageContaining("127.0.0.1:1")
        .hasMessageNotContaining("s3cret");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void shouldRejectABadPartitionCount() {
    assertThatThrownBy(() -> Polybus.connect(TestBroker.URI + "?partitions=0"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("partitions");
  }

  @Test
  void shouldRoundEveryDelayUpToAWaitStep() {
    for (long ms : new long[] {1, 2, 7, 99, 100, 101, 400, 1000, 30_000, 3_600_000}) {
      long step = RabbitNames.waitStepMillis(Duration.ofMillis(ms));
      assertThat(step)
          .as("step for %d ms", ms)
          .isGreaterThanOrEqualTo(ms)
          .isLessThanOrEqualTo(ms * 6 / 5 + 1);
    }
    assertThat(RabbitNames.waitStepMillis(Duration.ofNanos(1))).isEqualTo(1);
  }

  /**
   * Restarts the RabbitMQ application of the test broker (stop_app, start_app) in the middle of a
   * stream. Every other client of the broker sees the restart too: this runs against the project's
   * own test broker.
   */
  @Test
  @Timeout(240)
  void shouldLoseNoConfirmedMessageAndResumeTheSubscriptionWhenTheBrokerRestarts()
      throws Exception {
    String topic = unique("restart");
    try (Polybus bus = Polybus.connect(TestBroker.URI)) {
      Inbox inbox = new Inbox();
      bus.subscribe(topic, "g", inbox);
      List<String> confirmed = new ArrayList<>();
      for (int batch = 0; batch < 10; batch++) {
        if (batch == 4) {
          rabbitmqctl("stop_app");
          rabbitmqctl("start_app");
          rabbitmqctl("await_startup");
        }
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          messages.add(Message.of("k" + (i % 7), "r" + batch + "-" + i));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
          try {
            bus.publishAllAndWait(topic, messages);
            break;
          } catch (PolybusException e) {
            assertThat(e.isTransient()).as("failure while the broker restarts: %s", e).isTrue();
            assertThat(System.nanoTime() - deadline)
                .as("publishing recovered within 90 s")
                .isNegative();
            Thread.sleep(250);
          }
        }
        messages.forEach(m -> confirmed.add(m.id()));
      }
      Await.until(
          Duration.ofSeconds(90),
          () ->
              "every confirmed message delivered after the restart ("
                  + inbox.distinctIds().size()
                  + " of "
                  + confirmed.size()
                  + ")",
          () -> inbox.distinctIds().containsAll(confirmed));
      assertThat(bus.health().up()).as("health after the restart: %s", bus.health()).isTrue();
    }
  }

  private static void rabbitmqctl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    // Debian installs it in /usr/sbin, which a non-login PATH may lack.
    cmd.add(
        java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/sbin/rabbitmqctl"))
            ? "/usr/sbin/rabbitmqctl"
            : "rabbitmqctl");
    cmd.add("-q");
    cmd.addAll(List.of(args));
    java.nio.file.Path log = java.nio.file.Files.createTempFile("rabbitmqctl", ".log");
    try {
      // Output to a file, not a pipe: reading a pipe would block past the bound if it hangs.
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean finished = p.waitFor(60, TimeUnit.SECONDS);
      if (!finished) {
        p.destroyForcibly();
      }
      String out = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
      assertThat(finished)
          .as("rabbitmqctl %s finished within 60 s: %s", List.of(args), out)
          .isTrue();
      assertThat(p.exitValue()).as("rabbitmqctl %s: %s", List.of(args), out).isZero();
    } finally {
      java.nio.file.Files.deleteIfExists(log);
    }
  }
}
