package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * SQS-specific behaviour against ElasticMQ: visibility extension, and plain SDK clients on both
 * sides.
 */
class SqsBackendTest {
  static final String PREFIX = SqsTestSupport.uniquePrefix();

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }

  private static Polybus connect() {
    return Polybus.connect(SqsTestSupport.uri(PREFIX, ""));
  }

  @Test
  @Timeout(60)
  void shouldExtendTheVisibilityOfASlowHandlersMessageSoNoOtherMemberGetsIt() throws Exception {
    try (Polybus bus = connect()) {
      // ackTimeout 2 s is the visibility timeout; the handler takes 7 s, more than three timeouts.
      SubscribeOptions opts =
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .ackTimeout(Duration.ofSeconds(2))
              .build();
      Inbox slow = new Inbox(d -> Thread.sleep(7000));
      Inbox other = new Inbox();
      bus.subscribe("slow", "g", slow, opts);
      Message m = Message.of("takes its time");
      bus.publishAndWait("slow", m);
      slow.awaitIds(
          List.of(m.id()), Duration.ofSeconds(10), "the slow member receives the message");
      // The second member polls the same queue the whole time the handler runs, and after it acked.
      bus.subscribe("slow", "g", other, opts);
      Thread.sleep(9000);
      assertThat(other.size())
          .as("deliveries to the other member while the slow handler ran")
          .isZero();
      assertThat(slow.size()).as("deliveries to the slow member").isEqualTo(1);
      assertThat(slow.of(m.id()).get(0).attempt()).isEqualTo(1);
    }
  }

  @Test
  @Timeout(60)
  void shouldConsumeAMessageSentWithThePlainSdk() throws Exception {
    try (Polybus bus = connect();
        SqsClient sqs = SqsTestSupport.client()) {
      Inbox inbox = new Inbox();
      bus.subscribe(
          "from-sdk", "g", inbox, SubscribeOptions.builder().ordering(Ordering.NONE).build());
      String url =
          sqs.getQueueUrl(b -> b.queueName(new SqsNames(PREFIX, false).queue("from-sdk", "g")))
              .queueUrl();
      String sqsId =
          sqs.sendMessage(
                  b ->
                      b.queueUrl(url)
                          .messageBody("hello from the sdk")
                          .messageAttributes(
                              Map.of(
                                  "source",
                                      MessageAttributeValue.builder()
                                          .dataType("String")
                                          .stringValue("sdk")
                                          .build(),
                                  "count",
                                      MessageAttributeValue.builder()
                                          .dataType("Number")
                                          .stringValue("42")
                                          .build())))
              .messageId();
      String id = "sqs-" + sqsId;
      inbox.awaitIds(List.of(id), Duration.ofSeconds(20), "the SDK's message");
      Inbox.Received d = inbox.of(id).get(0);
      assertThat(new String(d.message().payload(), StandardCharsets.UTF_8))
          .isEqualTo("hello from the sdk");
      assertThat(d.message().key()).isNull();
      assertThat(d.message().headers())
          .containsExactly(Map.entry("count", "42"), Map.entry("source", "sdk"));
      assertThat(d.message().timestampMillis())
          .isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
      assertThat(d.attempt()).isEqualTo(1);
      Await.until(
          Duration.ofSeconds(10),
          () -> "the acked message deleted from the queue",
          () ->
              "0"
                  .equals(
                      sqs.getQueueAttributes(
                              b ->
                                  b.queueUrl(url)
                                      .attributeNamesWithStrings(
                                          "ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible"))
                          .attributesAsStrings()
                          .get("ApproximateNumberOfMessagesNotVisible")));
    }
  }

  @Test
  @Timeout(60)
  void shouldPublishMessagesThatThePlainSdkReads() throws Exception {
    try (Polybus bus = connect();
        SqsClient sqs = SqsTestSupport.client()) {
      // The group's queue exists from the subscribe on; closing the member leaves it in place.
      Subscription s = bus.subscribe("to-sdk", "reader", d -> {}, SubscribeOptions.defaults());
      s.close();
      Message text =
          Message.builder()
              .key("customer-7")
              .payload("plain text body")
              .header("source", "polybus")
              .build();
      byte[] bytes = {0, 1, 2, (byte) 0xff, 13, 10};
      Message binary = Message.builder().payload(bytes).build();
      bus.publishAllAndWait("to-sdk", List.of(text, binary));
      String url =
          sqs.getQueueUrl(b -> b.queueName(new SqsNames(PREFIX, false).queue("to-sdk", "reader")))
              .queueUrl();
      Map<String, software.amazon.awssdk.services.sqs.model.Message> byId =
          new java.util.HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (byId.size() < 2 && System.nanoTime() < deadline) {
        ReceiveMessageResponse r =
            sqs.receiveMessage(
                b ->
                    b.queueUrl(url)
                        .maxNumberOfMessages(10)
                        .waitTimeSeconds(1)
                        .messageAttributeNames("All"));
        for (var m : r.messages()) {
          byId.put(m.messageAttributes().get("polybus.id").stringValue(), m);
          sqs.deleteMessage(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()));
        }
      }
      var t = byId.get(text.id());
      assertThat(t).as("the text message, read by the SDK").isNotNull();
      assertThat(t.body()).isEqualTo("plain text body");
      assertThat(t.messageAttributes().get("polybus.key").stringValue()).isEqualTo("customer-7");
      assertThat(t.messageAttributes().get("source").stringValue()).isEqualTo("polybus");
      assertThat(Long.parseLong(t.messageAttributes().get("polybus.ts").stringValue()))
          .isEqualTo(text.timestampMillis());
      var b = byId.get(binary.id());
      assertThat(b).as("the binary message, read by the SDK").isNotNull();
      assertThat(b.messageAttributes().get("polybus.enc").stringValue()).isEqualTo("base64");
      assertThat(Base64.getDecoder().decode(b.body())).isEqualTo(bytes);
    }
  }

  @Test
  @Timeout(60)
  void shouldLetSqsMoveAMessageReceivedMaxReceiveCountTimesToTheDeadLetterTopic() throws Exception {
    try (Polybus bus = Polybus.connect(SqsTestSupport.uri(PREFIX, "maxReceiveCount=2"));
        SqsClient sqs = SqsTestSupport.client()) {
      // The group's queue gets a RedrivePolicy when the subscription makes it; the member closes at
      // once, so only the
      // plain client below receives from it, twice, never deleting: a consumer that dies before the
      // runtime sees it.
      bus.subscribe("redrive-net", "g", d -> {}, SubscribeOptions.defaults()).close();
      Message m = Message.of("never settled");
      bus.publishAndWait("redrive-net", m);
      String url =
          sqs.getQueueUrl(b -> b.queueName(new SqsNames(PREFIX, false).queue("redrive-net", "g")))
              .queueUrl();
      int received = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (received < 2 && System.nanoTime() < deadline) {
        received +=
            sqs.receiveMessage(b -> b.queueUrl(url).visibilityTimeout(0).waitTimeSeconds(1))
                .messages()
                .size();
      }
      assertThat(received).as("receives by the plain client").isEqualTo(2);
      // The next receive finds the count used up: SQS moves the message to the dead-letter topic's
      // dlq group queue.
      assertThat(sqs.receiveMessage(b -> b.queueUrl(url).visibilityTimeout(0)).messages())
          .isEmpty();
      Inbox dead = new Inbox();
      bus.subscribe(
          "redrive-net.g.dlq",
          Polybus.DEAD_LETTER_GROUP,
          dead,
          SubscribeOptions.builder().ordering(Ordering.NONE).build());
      dead.awaitIds(
          List.of(m.id()),
          Duration.ofSeconds(20),
          "the message SQS moved to the dead-letter topic");
      assertThat(new String(dead.of(m.id()).get(0).message().payload(), StandardCharsets.UTF_8))
          .isEqualTo("never settled");
    }
  }
}
