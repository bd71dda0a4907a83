package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RequestHeaders;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reply topic of a bus that made requests is deleted at its close, and a neighbour topic named
 * {@code <reply>.n}, read by a group of the same name, keeps its record and its group's offsets.
 */
@Timeout(60)
class KafkaReplyTopicTest {

  private static Set<String> topics(Admin admin) throws Exception {
    return admin
        .listTopics(new ListTopicsOptions().listInternal(false))
        .names()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void replyTopicIsDeletedAtCloseAndANeighbourIsKept() throws Exception {
    String service = KafkaTestSupport.unique("rr-svc");
    try (Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestSupport.bootstrap()));
        Polybus responder = Polybus.connect(KafkaTckTest.uri())) {
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
      try (Polybus requester = Polybus.connect(KafkaTckTest.uri())) {
        Message m =
            requester
                .request(service, Message.of("q"), Duration.ofSeconds(20))
                .get(30, TimeUnit.SECONDS);
        assertThat(m.payloadAsString()).isEqualTo("re");
        reply = replyTo.get();
        group =
            "requester."
                + reply.substring(io.polybus.spi.PortableNames.REPLY_TOPIC_PREFIX.length());
        neighbour = reply + ".n";
        responder.subscribe(neighbour, group, d -> {}).close(Duration.ZERO);
        responder.publishAndWait(neighbour, Message.of("keep me"));
        assertThat(topics(admin)).as("topics while the requester lives").contains(reply, neighbour);
      }
      assertThat(topics(admin))
          .as("topics after the requester closed")
          .doesNotContain(reply)
          .contains(neighbour);
      // The broker drops the deleted topic's committed offsets from every group on its own, a
      // moment after the deletion; the neighbour's offsets (same group name) must stay.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      List<String> offsetTopics;
      do {
        offsetTopics =
            admin
                .listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS)
                .keySet()
                .stream()
                .map(tp -> tp.topic())
                .toList();
        if (!offsetTopics.contains(reply)) {
          break;
        }
        Thread.sleep(200);
      } while (System.nanoTime() < deadline);
      assertThat(offsetTopics)
          .as("topics group 'requester' has offsets on")
          .contains(neighbour)
          .doesNotContain(reply);
      admin.deleteTopics(List.of(neighbour)).all().get(10, TimeUnit.SECONDS);
    }
  }
}
