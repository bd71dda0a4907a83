package io.polybus.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RequestHeaders;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reply topic of a bus that made requests is deleted at its close ({@code
 * Backend.deleteTopic}), and only it: a topic whose name starts with the reply topic's name, with a
 * group of the same name, keeps its group and messages.
 */
@Timeout(30)
class InMemoryReplyTopicTest {

  @Test
  void replyTopicIsDeletedAtCloseAndANeighbourIsKept() throws Exception {
    String name = "rr-" + UUID.randomUUID().toString().substring(0, 8);
    // Holding the broker ourselves keeps it alive after the buses close, so we can look inside.
    MemBroker broker = MemBroker.acquire(name, 1000);
    try (Polybus responder = Polybus.connect("mem:" + name)) {
      AtomicReference<String> replyTo = new AtomicReference<>();
      responder.respond(
          "rr-service",
          "g",
          d -> {
            replyTo.set(d.message().header(RequestHeaders.REPLY_TO));
            return Message.of("re");
          },
          SubscribeOptions.builder().ordering(Ordering.NONE).build());
      Polybus requester = Polybus.connect("mem:" + name);
      String reply;
      String neighbour;
      try {
        assertThat(
                requester
                    .request("rr-service", Message.of("q"), Duration.ofSeconds(10))
                    .get()
                    .payloadAsString())
            .isEqualTo("re");
        reply = replyTo.get();
        assertThat(reply).startsWith("polybus.replies.");
        assertThat(broker.hasTopic(reply)).as("reply topic while its bus is open").isTrue();
        // The neighbour shares the reply topic's name as a prefix and its group's name.
        neighbour = reply + ".n";
        responder.subscribe(neighbour, "requester", d -> {}).close(Duration.ZERO);
        responder.publishAndWait(neighbour, Message.of("keep me"));
      } finally {
        requester.close();
      }

      assertThat(broker.hasTopic(reply)).as("reply topic %s after its bus closed", reply).isFalse();
      assertThat(broker.hasTopic(neighbour)).as("neighbour %s", neighbour).isTrue();
      CountDownLatch got = new CountDownLatch(1);
      responder.subscribe(neighbour, "requester", d -> got.countDown());
      assertThat(got.await(10, TimeUnit.SECONDS))
          .as("the neighbour's group still holds its message")
          .isTrue();
    } finally {
      broker.release();
    }
  }
}
