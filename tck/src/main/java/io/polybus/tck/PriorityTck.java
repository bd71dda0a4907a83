package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.Priority;
import io.polybus.SubscribeOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves priority ({@link Message.Builder#priority}, {@link SubscribeOptions.Builder#priority}): a
 * subscription that is behind a backlog of normal messages handles high-priority messages published
 * after them first. Every backend: the runtime keeps a high-priority lane per topic and drains it
 * first, so nothing here depends on the broker.
 */
public interface PriorityTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldHandleHighPriorityMessagesBeforeTheNormalBacklogPublishedBeforeThem()
      throws Exception {
    int maxInFlight = 4;
    int backlog = 30;
    int urgent = 5;
    try (Polybus bus = connect()) {
      String topic = uniqueName("priority");
      CountDownLatch holding = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      // The first delivery holds the only handler thread until the backlog and the urgent
      // messages are all at the broker: from then on the subscription is behind. Each later one
      // takes 2 ms, like real work: a broker that pushes to its consumers (AMQP) may hand the
      // urgent messages to the client a few milliseconds after the handler became free, and a
      // handler that takes no time would run through many normal ones meanwhile.
      Inbox inbox =
          new Inbox(
              d -> {
                if (holding.getCount() > 0) {
                  holding.countDown();
                  release.await(60, TimeUnit.SECONDS);
                } else {
                  Thread.sleep(2);
                }
              });
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder()
              .priority(true)
              .ordering(Ordering.NONE)
              .concurrency(1)
              .maxInFlight(maxInFlight)
              .build());
      // The first message is a high-priority one: that it arrives proves the lane's member is
      // reading (a partitioned backend's member may need a moment to take its partitions).
      Message first = Message.builder().payload("first").priority(Priority.HIGH).build();
      bus.publishAndWait(topic, first);
      assertThat(holding.await(timeouts().await().toSeconds(), TimeUnit.SECONDS))
          .as("the first message reached the handler")
          .isTrue();

      List<Message> normal = textMessages("normal", backlog);
      bus.publishAllAndWait(topic, normal);
      List<Message> high = new ArrayList<>();
      for (int i = 0; i < urgent; i++) {
        high.add(Message.builder().payload("high-" + i).priority(Priority.HIGH).build());
      }
      bus.publishAllAndWait(topic, high);
      release.countDown();

      List<String> all = new ArrayList<>(idsOf(List.of(first)));
      all.addAll(idsOf(normal));
      all.addAll(idsOf(high));
      assertDeliveredExactlyOnce(inbox, all, "the first, the backlog and the urgent messages");

      List<String> order = inbox.ids();
      // The first, what the window already held, the urgent ones; slack for a lane whose fetch was
      // still under way when the handler became free (a loaded machine). Without priority the
      // urgent ones come last, at 32 to 36.
      int bound = 1 + maxInFlight + urgent + 10;
      for (Message m : high) {
        assertThat(order.indexOf(m.id()))
            .as(
                "position of %s among %d handled (normal messages published before it: %d)",
                m.payloadAsString(), order.size(), backlog)
            .isLessThan(bound);
      }
      assertThat(inbox.of(high.get(0).id()).get(0).message().priority()).isEqualTo(Priority.HIGH);
    }
  }
}
