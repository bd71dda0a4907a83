package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RequestHeaders;
import io.polybus.SubscribeOptions;
import io.polybus.spi.PortableNames;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/**
 * The reply topic of a bus that made requests is deleted at its close: its group queue and the
 * safety-net dead-letter queue its group got ({@code GetQueueUrl} fails for both); a neighbour
 * topic {@code <reply>.n} with a group of the same name keeps its queue and its message.
 */
@Timeout(60)
class SqsReplyTopicTest {
  static final String PREFIX = SqsTestSupport.uniquePrefix();

  @AfterAll
  static void deleteQueues() {
    SqsTestSupport.deleteQueues(PREFIX);
  }

  @ParameterizedTest(name = "fifo={0}")
  @ValueSource(booleans = {false, true})
  void replyTopicQueuesAreDeletedAtCloseAndANeighbourIsKept(boolean fifo) throws Exception {
    String uri = SqsTestSupport.uri(PREFIX, fifo ? "fifo=true" : "");
    SqsNames names = new SqsNames(PREFIX, fifo);
    String service = "rr-svc-" + UUID.randomUUID().toString().substring(0, 8);
    try (SqsClient sqs = SqsTestSupport.client();
        Polybus responder = Polybus.connect(uri)) {
      AtomicReference<String> replyTo = new AtomicReference<>();
      responder.respond(
          service,
          "g",
          d -> {
            replyTo.set(d.message().header(RequestHeaders.REPLY_TO));
            return Message.of("re");
          },
          SubscribeOptions.builder().ordering(Ordering.NONE).build());
      String reply;
      String group;
      String neighbour;
      try (Polybus requester = Polybus.connect(uri)) {
        Message m =
            requester
                .request(service, Message.of("q"), Duration.ofSeconds(10))
                .get(20, TimeUnit.SECONDS);
        assertThat(m.payloadAsString()).isEqualTo("re");
        reply = replyTo.get();
        group =
            "requester."
                + reply.substring(io.polybus.spi.PortableNames.REPLY_TOPIC_PREFIX.length());
        neighbour = reply + ".n";
        responder.subscribe(neighbour, group, d -> {}).close(Duration.ZERO);
        responder.publishAndWait(neighbour, Message.of("keep me"));
        assertThat(sqs.getQueueUrl(b -> b.queueName(names.queue(reply, group))).queueUrl())
            .as("the reply queue while the bus lives")
            .isNotEmpty();
      }

      String replyQueue = names.queue(reply, group);
      String safetyNet =
          names.queue(PortableNames.deadLetterTopic(reply, group), Polybus.DEAD_LETTER_GROUP);
      for (String q : new String[] {replyQueue, safetyNet}) {
        assertThatThrownBy(() -> sqs.getQueueUrl(b -> b.queueName(q)))
            .as("GetQueueUrl of %s after close", q)
            .isInstanceOf(QueueDoesNotExistException.class);
      }
      String kept = sqs.getQueueUrl(b -> b.queueName(names.queue(neighbour, group))).queueUrl();
      String count =
          sqs.getQueueAttributes(
                  b ->
                      b.queueUrl(kept)
                          .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
              .attributes()
              .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES);
      assertThat(count).as("messages in the neighbour's queue").isEqualTo("1");
    }
  }
}
