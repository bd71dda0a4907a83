package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.DeadLetterHeaders;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spi.PortableNames;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Attempt counts live in the group's commit metadata, so a restart does not reset them to 1. */
class KafkaAttemptsTest {
  @Test
  @Timeout(90)
  void shouldContinueTheAttemptCountAfterTheSubscriberRestartsAndDeadLetterAtMaxAttempts() {
    String topic = KafkaTestSupport.unique("attempts");
    String group = "g";
    SubscribeOptions opts =
        SubscribeOptions.builder()
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(4)
                    .initialBackoff(Duration.ofSeconds(1))
                    .multiplier(1)
                    .jitter(0)
                    .build())
            .build();
    List<Integer> before = new CopyOnWriteArrayList<>();
    List<Integer> after = new CopyOnWriteArrayList<>();
    Message m = Message.builder().key("poison").payload(new byte[] {1}).build();
    try (Polybus first = Polybus.connect(KafkaTckTest.uri())) {
      Subscription s =
          first.subscribe(
              topic,
              group,
              d -> {
                before.add(d.attempt());
                throw new IllegalStateException("always fails");
              },
              opts);
      first.publishAndWait(topic, m);
      Await.until(
          Duration.ofSeconds(30), "two attempts before the restart", () -> before.size() >= 2);
      s.close(); // the in-place retry (due in 1 s) goes back to the group with its count
    }
    try (Polybus second = Polybus.connect(KafkaTckTest.uri())) {
      Inbox dead = new Inbox();
      second.subscribe(
          PortableNames.deadLetterTopic(topic, group), Polybus.DEAD_LETTER_GROUP, dead);
      second.subscribe(
          topic,
          group,
          d -> {
            after.add(d.attempt());
            throw new IllegalStateException("always fails");
          },
          opts);
      dead.awaitIds(List.of(m.id()), Duration.ofSeconds(30), "the dead letter after the restart");
      assertThat(before).as("attempts before the restart").containsExactly(1, 2);
      assertThat(after)
          .as("attempts after the restart continue, they do not start at 1")
          .containsExactly(3, 4);
      assertThat(dead.messages().get(0).header(DeadLetterHeaders.ATTEMPTS)).isEqualTo("4");
    }
  }
}
