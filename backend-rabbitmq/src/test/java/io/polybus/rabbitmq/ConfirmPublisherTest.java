package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.polybus.NonTransientPolybusException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hard case of confirm bookkeeping: a publish the client refuses inside {@code basicPublish},
 * after it already took a sequence number that never reaches the broker (amqp-client 5.x numbers a
 * publish before encoding it). The broker's numbering then runs one behind the channel's; every
 * later confirm must still complete its own publish.
 */
class ConfirmPublisherTest {
  private static ConfirmPublisher.Out to(String queue, String id) {
    return new ConfirmPublisher.Out(
        "",
        queue,
        new AMQP.BasicProperties.Builder().messageId(id).build(),
        id.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @Timeout(60)
  void shouldFailOnlyThePublishTheClientRefusesAndMatchEveryLaterConfirmToItsPublish()
      throws Exception {
    try (Connection c = TestBroker.rawConnection()) {
      Channel setup = c.createChannel();
      String q = setup.queueDeclare().getQueue(); // exclusive to this connection, gone with it
      ConfirmPublisher publisher =
          new ConfirmPublisher(c, Runnable::run, TimeUnit.SECONDS.toNanos(5), "test", () -> {});
      try {
        publisher.publish(List.of(to(q, "first"))).get(10, TimeUnit.SECONDS);
        // A message id is an AMQP short string: the client throws "Short string too long" while
        // encoding it.
        CompletableFuture<Void> refused = publisher.publish(List.of(to(q, "\u00e9".repeat(200))));
        assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause()
            .isInstanceOf(NonTransientPolybusException.class);
        for (int i = 0; i < 3; i++) {
          // Each waits for its own confirm: one matched to the wrong number would never complete.
          publisher
              .publish(List.of(to(q, "later-" + i), to(q, "later-" + i + "b")))
              .get(10, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 20; i++) {
          publisher.expire();
        }
        assertThat(setup.messageCount(q)).as("every message but the refused one").isEqualTo(7);
      } finally {
        publisher.close();
      }
    }
  }
}
