package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * What a closing member does with a record no handler started ({@link
 * InboundRecord#markNotHandled()}), seen through the SPI and a plain SDK client: in standard mode a
 * copy that carries the deliveries made before, the original deleted; in FIFO mode, when the copy
 * would not fit, or when SQS is too slow to take it, an ordinary counted give-back.
 */
class SqsGiveBackTest {
  static final String PREFIX = SqsTestSupport.uniquePrefix();

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }

  private static Backend open(String extra) {
    return new SqsBackendProvider().open(PolybusOptions.parse(SqsTestSupport.uri(PREFIX, extra)));
  }

  private static ConsumerSpec spec(String topic) {
    return new ConsumerSpec(
        topic, "g", Ordering.NONE, StartFrom.EARLIEST, Duration.ofSeconds(30), 10);
  }

  /**
   * Polls a new member of the group until it receives the one message, then returns it unsettled.
   */
  private static InboundRecord receive(BackendConsumer member) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      List<InboundRecord> got = member.poll(10, Duration.ofSeconds(1));
      if (!got.isEmpty()) {
        assertThat(got).hasSize(1);
        return got.get(0);
      }
    }
    throw new AssertionError("no message within 20 s");
  }

  @Test
  @Timeout(60)
  void shouldGiveBackARecordNoHandlerStartedAsACopyThatKeepsItsMessageAndDeliveryCount()
      throws Exception {
    try (Backend backend = open("");
        SqsClient sqs = SqsTestSupport.client()) {
      backend.ensureGroup("copy", "g", StartFrom.EARLIEST);
      Message m =
          Message.builder().key("k").payload("not seen by any handler").header("h", "v").build();
      backend.publish("copy", List.of(m)).join();

      BackendConsumer first = backend.subscribe(spec("copy"));
      assertThat(receive(first).deliveryCount()).isEqualTo(1);
      first.close(); // not marked: an ordinary give-back, counted

      BackendConsumer second = backend.subscribe(spec("copy"));
      InboundRecord counted = receive(second);
      assertThat(counted.deliveryCount()).isEqualTo(2);
      counted.markNotHandled();
      second.close();

      BackendConsumer third = backend.subscribe(spec("copy"));
      InboundRecord copy = receive(third);
      assertThat(copy.deliveryCount())
          .as("the delivery count after an uncounted give-back")
          .isEqualTo(2);
      assertThat(copy.message()).isEqualTo(m);
      third.close(); // not marked: counted again, on top of what the copy carries

      String url =
          sqs.getQueueUrl(b -> b.queueName(new SqsNames(PREFIX, false).queue("copy", "g")))
              .queueUrl();
      List<software.amazon.awssdk.services.sqs.model.Message> left =
          sqs.receiveMessage(
                  b ->
                      b.queueUrl(url)
                          .maxNumberOfMessages(10)
                          .waitTimeSeconds(1)
                          .messageAttributeNames("All")
                          .messageSystemAttributeNames(
                              MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
              .messages();
      assertThat(left).as("the queue holds the copy only, the original was deleted").hasSize(1);
      assertThat(left.get(0).messageAttributes().get(SqsLayout.ATTEMPTS).stringValue())
          .as("deliveries the copy carries")
          .isEqualTo("1");
      assertThat(left.get(0).attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
          .as("SQS's own count of the copy: the third member's receive and this one")
          .isEqualTo("2");
    }
  }

  @Test
  @Timeout(60)
  void shouldCountARecordNoHandlerStartedInFifoMode() throws Exception {
    try (Backend backend = open("fifo=true")) {
      backend.ensureGroup("fifo-counted", "g", StartFrom.EARLIEST);
      backend.publish("fifo-counted", List.of(Message.of("k", "in a message group"))).join();
      BackendConsumer first = backend.subscribe(spec("fifo-counted"));
      receive(first).markNotHandled();
      first.close();
      BackendConsumer second = backend.subscribe(spec("fifo-counted"));
      assertThat(receive(second).deliveryCount())
          .as("a copy would go behind later messages of its key")
          .isEqualTo(2);
      second.close();
    }
  }

  @Test
  @Timeout(60)
  void shouldCountARecordNoHandlerStartedWhoseCopyWouldNotFit() throws Exception {
    int limit = 64 * 1024;
    try (Backend backend = open("maxMessageSize=64k")) {
      backend.ensureGroup("too-large", "g", StartFrom.EARLIEST);
      Message probe = Message.builder().id("fixed").payload("x").build();
      int overhead = SqsLayout.encode(probe).size() - 1;
      Message m = Message.builder().id("fixed").payload("x".repeat(limit - overhead)).build();
      assertThat(SqsLayout.encode(m).size())
          .as("the message fills the limit exactly")
          .isEqualTo(limit);
      backend.publish("too-large", List.of(m)).join();

      BackendConsumer first = backend.subscribe(spec("too-large"));
      receive(first);
      first.close(); // counted: the next delivery is the second, so a copy would need
      // polybus.attempts
      BackendConsumer second = backend.subscribe(spec("too-large"));
      receive(second).markNotHandled();
      second.close();
      BackendConsumer third = backend.subscribe(spec("too-large"));
      InboundRecord again = receive(third);
      assertThat(again.deliveryCount()).as("given back counted rather than lost").isEqualTo(3);
      assertThat(again.message()).isEqualTo(m);
      third.close();
    }
  }

  @Test
  @Timeout(60)
  void shouldGiveBackCountedAndStillCloseWithinTimeoutWhenSqsIsTooSlowToTakeTheCopy()
      throws Exception {
    SqsSettings settings =
        SqsBackendProvider.settings(PolybusOptions.parse(SqsTestSupport.uri(PREFIX, "timeout=2s")));
    AtomicBoolean slow = new AtomicBoolean();
    SqsClient real = SqsBackendProvider.client(settings);
    // Every call goes to ElasticMQ, except that once `slow` is set a SendMessageBatch hangs far
    // past the timeout
    // and then fails, as a call to an overloaded SQS would (without the per-call bound, which this
    // stand-in ignores).
    SqsClient client =
        (SqsClient)
            Proxy.newProxyInstance(
                SqsClient.class.getClassLoader(),
                new Class<?>[] {SqsClient.class},
                (proxy, method, args) -> {
                  if (slow.get() && method.getName().equals("sendMessageBatch")) {
                    Thread.sleep(10_000);
                    throw new IllegalStateException("too slow");
                  }
                  try {
                    return method.invoke(real, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    try (Backend backend = new SqsBackend(settings, client)) {
      backend.ensureGroup("slow-copy", "g", StartFrom.EARLIEST);
      Message m = Message.of("waits for a slow SQS");
      backend.publish("slow-copy", List.of(m)).join();
      BackendConsumer first = backend.subscribe(spec("slow-copy"));
      receive(first).markNotHandled();
      slow.set(true);
      long start = System.nanoTime();
      first.close();
      // Half the timeout for the copy, then the counted give-back: about 1 s; the bound is the
      // timeout, plus slack.
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("time close took")
          .isLessThan(Duration.ofMillis(3000));
      BackendConsumer second = backend.subscribe(spec("slow-copy"));
      InboundRecord again = receive(second);
      assertThat(again.deliveryCount()).as("given back counted rather than lost").isEqualTo(2);
      assertThat(again.message()).isEqualTo(m);
      second.close();
    }
  }
}
