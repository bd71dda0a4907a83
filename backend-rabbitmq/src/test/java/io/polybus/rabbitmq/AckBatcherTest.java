package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Coalesced acks settle exactly what was settled, on a real broker: nothing more, nothing less. */
class AckBatcherTest {
  @Test
  @Timeout(60)
  void shouldAckOnlyWhatWasSettledAroundAGapAndANack() throws Exception {
    try (Connection c = TestBroker.rawConnection()) {
      Channel setup = c.createChannel();
      String q = setup.queueDeclare().getQueue(); // exclusive to this connection, gone with it
      setup.confirmSelect();
      for (int i = 1; i <= 6; i++) {
        setup.basicPublish("", q, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
      }
      setup.waitForConfirmsOrDie(10_000);

      Channel ch = c.createChannel();
      List<Long> tags = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        tags.add(ch.basicGet(q, false).getEnvelope().getDeliveryTag());
      }
      assertThat(tags).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
      AckBatcher acks = new AckBatcher(ch);
      acks.ack(2, 0);
      acks.ack(1, 0);
      acks.ack(3, 0);
      acks.nack(4, 0); // back to the queue now; the multiple ack below must not cover it
      acks.ack(6, 0); // behind the open tag 5: sent alone by the forced flush
      acks.ack(7, 1); // a tag of another channel incarnation: dropped
      acks.flush(true);
      ch.close(); // gives back what is still unacked: only m5

      List<String> left = new ArrayList<>();
      GetResponse r;
      while ((r = setup.basicGet(q, true)) != null) {
        left.add(new String(r.getBody(), StandardCharsets.UTF_8));
      }
      assertThat(left).as("messages left in the queue").containsExactlyInAnyOrder("m4", "m5");
    }
  }
}
