package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RequestHeaders;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reply topic of a bus that made requests is deleted at its close: its exchange (and partition
 * exchange) and its group's queues, checked with passive declares on a raw connection; a neighbour
 * topic {@code <reply>.n} with a group of the same name keeps its exchange, its queue and its
 * message.
 */
@Timeout(60)
class RabbitMqReplyTopicTest {
  static {
    TestBroker.record();
  }

  @AfterAll
  static void cleanUp() throws Exception {
    TestBroker.deleteDeclared();
  }

  @ParameterizedTest(name = "partitions={0}")
  @ValueSource(ints = {1, 2})
  void replyTopicIsDeletedAtCloseAndANeighbourIsKept(int partitions) throws Exception {
    String uri = TestBroker.URI + "?partitions=" + partitions;
    String service = "rr-svc-" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection raw = TestBroker.rawConnection();
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
      List<String> replyQueues = new ArrayList<>();
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
        if (partitions == 1) {
          replyQueues.add(reply + ":" + group);
        } else {
          for (int i = 0; i < partitions; i++) {
            replyQueues.add(reply + ":" + group + ":" + i);
          }
        }
        for (String q : replyQueues) {
          assertThat(TestBroker.queueExists(raw, q)).as("queue %s while the bus lives", q).isTrue();
        }
        neighbour = reply + ".n";
        responder.subscribe(neighbour, group, d -> {}).close(Duration.ZERO);
        responder.publishAndWait(neighbour, Message.of("keep me"));
      }

      for (String q : replyQueues) {
        assertThat(TestBroker.queueExists(raw, q)).as("queue %s after close", q).isFalse();
      }
      assertThat(TestBroker.exchangeExists(raw, reply))
          .as("exchange %s after close", reply)
          .isFalse();
      assertThat(TestBroker.exchangeExists(raw, reply + ":partitions"))
          .as("partition exchange after close")
          .isFalse();

      assertThat(TestBroker.exchangeExists(raw, neighbour)).as("neighbour exchange").isTrue();
      long kept = 0;
      for (String q :
          partitions == 1
              ? List.of(neighbour + ":" + group)
              : List.of(neighbour + ":" + group + ":0", neighbour + ":" + group + ":1")) {
        Channel ch = raw.createChannel();
        try {
          kept += ch.queueDeclarePassive(q).getMessageCount();
        } finally {
          ch.close();
        }
      }
      assertThat(kept).as("messages in the neighbour's queues").isEqualTo(1);
    }
  }
}
